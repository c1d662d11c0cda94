"""The voice desk: services (being built)."""
