"""Alerts: the lifecycle on the state store (store), and delivery to the command centre."""
