"""The composition layer: the ``checkpoint`` command, the demo, provisioning and the config
reference, which put the node (``edge``) and the hub (``hub``) together on top of the shared
base (``checkpoint``)."""
