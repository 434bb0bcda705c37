"""Real services on loopback ports for the demo and the tests (never for production).

``LocalStack`` starts Mosquitto and InfluxDB 1.x (Debian's packages) with their data in a
temporary directory, or uses the addresses in ``CHECKPOINT_MQTT_URL`` and
``CHECKPOINT_INFLUX_URL`` when those are set.
"""

from checkpoint.localstack.influxdb import InfluxDB1
from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.localstack.stack import LocalStack
from checkpoint.localstack.victoria import VictoriaMetrics

__all__ = ["InfluxDB1", "LocalStack", "Mosquitto", "VictoriaMetrics"]
