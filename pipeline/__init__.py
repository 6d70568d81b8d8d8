"""CDR rating and billing pipeline: pure engine, offline runner and stream agents."""

__version__ = "0.1.0"
