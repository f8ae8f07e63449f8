"""Serve: the published marts to their readers (entity files, SQL, Superset)."""
