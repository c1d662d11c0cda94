"""The voice desk: models (being built)."""
