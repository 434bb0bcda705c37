"""Signed passes, shared by node and hub: the pass, its QR text, trust, revocations, policy.

Imports only pydantic, cryptography and the standard library at module level, so that the
node verifies offline with the same code the hub issues with (see docs/passes.md).
QR rendering (segno) is loaded only when an image is asked for.
"""
