"""The hub: ingest from MQTT into InfluxDB, anomaly rules, alerts, and the API."""
