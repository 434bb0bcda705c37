"""Settings shared by node and hub: the strict base model, MQTT, and file loading."""
