"""Pure per-provider and per-account daily minute limits (no I/O)."""
