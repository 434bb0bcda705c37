"""The node's way to the hub: MQTT connection and (durable) event publishing."""
