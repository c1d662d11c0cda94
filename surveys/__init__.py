"""Surveys, satisfaction KPIs and instructor meetings (standards 6 and 8)."""
