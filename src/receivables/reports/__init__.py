"""Reports: the scheduled workbooks and PDFs, from the published marts."""
