"""Service standards (서비스 이행표준): every promise of the charter measured for a year."""
