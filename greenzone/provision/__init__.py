"""Field provisioning: a ward's PKI, broker credentials and ACL, and each node's config.

``checkpoint provision WARD.yaml --out DIR`` turns one ward file (ward.py) into everything
the broker and the nodes need (bundle.py).
"""
