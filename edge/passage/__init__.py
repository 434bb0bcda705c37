"""One person at the checkpoint: temperature, pass, decision, barrier, one Passage event."""
