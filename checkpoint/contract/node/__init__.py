"""The node config: what a node's YAML file holds and what the hub pushes to a node."""
