"""Pure rating domain: money, numbers, rate decks, profiles and the rater (no I/O)."""
