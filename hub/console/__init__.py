"""The command-centre console: server-rendered pages served by the hub's own API app."""
