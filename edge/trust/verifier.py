"""OfflineVerifier: a checkpoint's pass decision with no network, one reason per refusal.

Order of checks, each with its own reason: is it a pass at all and readable; is the key
known; is the signature good; is it within its validity window; is it revoked; is it for
this ward; for this checkpoint (when it lists checkpoints); does the zone's level let its
category through in this direction; at this hour. Past ``max_age_s`` of the lists the
stricter fallback rule replaces the level rule and a refusal under it says ``stale_trust``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature

from checkpoint.contract.models import PassCheck, Reason, is_text
from checkpoint.contract.node.trust import VerifierSettings
from checkpoint.passes import codec
from checkpoint.passes.errors import PassError
from checkpoint.passes.keys import load_public_key
from checkpoint.passes.model import Category, Pass, within
from checkpoint.passes.policy import default_policy
from checkpoint.passes.state import TrustSource, TrustState
from edge.passcheck import PassContext

log = logging.getLogger(__name__)


class OfflineVerifier:
    """Implements edge.passcheck.PassVerifier; ``check`` never raises on any input."""

    def __init__(self, source: TrustSource, settings: VerifierSettings | None = None) -> None:
        self.source = source
        self.settings = settings or VerifierSettings()

    def check(self, text: str, context: PassContext) -> PassCheck:
        state = self.source.trust_state()
        age = state.age_s(context.now)
        pass_: Pass | None = None
        key_id: str | None = None
        try:
            signed = codec.split(text)
            # A forged pass's key id is reported only if the contract can carry it.
            key_id = signed.key_id if len(signed.key_id) <= 32 and is_text(signed.key_id) else None
            self._check_signature(signed, state, context.now)
            pass_ = signed.to_pass()
            reason = self._decide(pass_, state, age, context)
        except PassError as exc:
            reason = exc.reason
        except Exception:  # a bug here must refuse one pass, not stop the checkpoint
            log.exception("pass verification failed unexpectedly")
            reason = Reason.PASS_UNREADABLE
        return PassCheck(
            pass_id=pass_.pass_id if pass_ else None,
            category=pass_.category.value if pass_ else None,
            valid=reason is Reason.OK,
            reason=reason,
            key_id=key_id,
            trust_version=state.keys.version if state.keys else None,
            revocation_version=state.revocation_version,
            trust_age_s=age,
        )

    def _check_signature(self, signed: codec.SignedPass, state: TrustState, now: datetime) -> None:
        trusted = state.keys.key(signed.key_id) if state.keys else None
        if trusted is None:
            if state.keys is None:
                raise PassError(Reason.STALE_TRUST, "no trust list yet")
            raise PassError(Reason.PASS_UNKNOWN_KEY, f"key {signed.key_id!r} is not trusted")
        if not trusted.usable_at(now, timedelta(seconds=self.settings.clock_skew_s)):
            raise PassError(Reason.PASS_UNKNOWN_KEY, f"key {signed.key_id!r} is not valid now")
        try:
            load_public_key(trusted.public_key).verify(signed.signature, signed.signed_message)
        except InvalidSignature:
            raise PassError(Reason.PASS_BAD_SIGNATURE, "signature does not match") from None

    def _decide(  # noqa: PLR0911 - one return per refusal reason reads best
        self, pass_: Pass, state: TrustState, age: float | None, context: PassContext
    ) -> Reason:
        now = context.now
        skew = timedelta(seconds=self.settings.clock_skew_s)
        if now + skew < pass_.valid_from:
            return Reason.PASS_NOT_YET_VALID
        if now >= pass_.valid_until:
            return Reason.PASS_EXPIRED
        if pass_.pass_id in state.revoked:
            return Reason.PASS_REVOKED
        if pass_.ward_id != context.ward_id:
            return Reason.PASS_WRONG_WARD
        if pass_.checkpoints and context.checkpoint_id not in pass_.checkpoints:
            return Reason.PASS_NOT_HERE
        if context.purpose == "badge":
            return Reason.OK if pass_.category is Category.OPERATOR else Reason.NOT_AN_OPERATOR
        policy = state.policy or default_policy()
        stale = age is None or age > self.settings.max_age_s
        rule = (
            policy.fallback
            if stale
            else policy.rule(context.ward_id, context.zone_level, context.zone_id)
        )
        refusal = Reason.STALE_TRUST if stale else Reason.LEVEL_NOT_ALLOWED
        if rule is None or not rule.allows(pass_.category, context.direction):
            return refusal
        minute = policy.local_minute(now)
        if not within(pass_.hours, minute):
            return Reason.OUTSIDE_HOURS
        if pass_.category not in rule.hours_exempt and not within(rule.hours, minute):
            return Reason.OUTSIDE_HOURS
        return Reason.OK
