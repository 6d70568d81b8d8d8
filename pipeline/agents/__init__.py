"""Thin Faust agents: decode, call the stage, write its state, send what it produced."""
