"""On-site training requests and CP mentoring (standards 4 and 9)."""
