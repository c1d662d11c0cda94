"""Completion certificates: issuing, PDF and public verification."""
