"""Software releases for nodes: the signed manifest both the builder and the node read."""
