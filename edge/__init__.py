"""The checkpoint node: sensors, local passage decisions, barrier, durable uplink."""
