"""Group trade-receivables warehouse: landing, validation, sample generation and CLI."""

__version__ = "0.1.0"
