"""Node software updates: download, verify, install A/B, switch, health gate, roll back."""
