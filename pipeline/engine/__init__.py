"""The billing engine: pure steps that rate, settle and post events, and an in-memory book."""
