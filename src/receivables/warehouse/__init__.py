"""The warehouse: its DuckDB file (schema, single writer, lock) and the dbt build of the marts."""
