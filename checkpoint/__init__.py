"""Shared parts of the checkpoint system: the message contract, settings, CLI, local stack."""

__version__ = "0.1.0"
