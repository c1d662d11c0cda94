"""The voice desk: privacy (being built)."""
