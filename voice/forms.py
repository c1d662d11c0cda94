"""The voice desk: forms (being built)."""
