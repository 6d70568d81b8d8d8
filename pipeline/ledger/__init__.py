"""Pure ledger domain: postings, balances, thresholds, packages, commissions, periods."""
