"""The hub's HTTP API for technicians and command staff (FastAPI)."""
