"""InfluxDB: the line-protocol schema and the clients that write and read it."""
