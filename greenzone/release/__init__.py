"""Building and signing releases (``checkpoint release``); the node side is edge/update."""
