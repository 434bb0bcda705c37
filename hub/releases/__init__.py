"""Software releases the hub keeps and rolls out to nodes (docs/field.md, "Releases")."""
