"""Course catalog, annual calendar, announcements, enrolment and completion."""
