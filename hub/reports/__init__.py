"""The daily briefing: a ward's day in figures, as CSV and as a printable PDF."""
