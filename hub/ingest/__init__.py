"""MQTT -> InfluxDB ingest with acknowledgement after the durable write."""
