"""The node's trust data: last good keys, revocations and zone policy, kept on disk."""

from edge.trust.store import Outcome, TrustHealth, TrustStore

__all__ = ["Outcome", "TrustHealth", "TrustStore"]
