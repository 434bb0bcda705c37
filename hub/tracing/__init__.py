"""Tracing passes through the ward's checkpoints: queries, retention of passage details."""
