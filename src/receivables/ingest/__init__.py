"""Ingest: the night's drops read, validated, quarantined or staged, and loaded by the single writer."""
