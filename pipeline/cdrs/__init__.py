"""CDR files in: the raw CDR type and readers for CSV, JSON Lines, Asterisk and FreeSWITCH."""
