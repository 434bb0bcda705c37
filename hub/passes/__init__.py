"""The hub's side of signed passes: signing keys, issuing and revoking, publishing to nodes."""
