"""Anomaly rules: each module watches one family of events and says Raise or Clear."""
