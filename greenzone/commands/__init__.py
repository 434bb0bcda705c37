"""Subcommands that belong to neither part alone (demo, local stack, config validation)."""
