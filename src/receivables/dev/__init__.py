"""Development tools: the sample group generator and the benchmark.

They ship with the package (``receivables generate``, ``receivables bench``,
the tests), but the pipeline (landing, validation, build, publish, reports,
the DAGs) never imports them: a test checks it.
"""
