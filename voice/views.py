"""The voice desk: views (being built)."""
