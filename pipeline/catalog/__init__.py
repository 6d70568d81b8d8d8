"""The operator's catalog: tariffs, parties, packages and exchange rates, and its loader."""
