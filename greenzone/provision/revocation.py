"""Which client certificates the ward CA has issued, and the revocation list the broker
checks (``crlfile``): every issued certificate that is no longer an account's current one.

A certificate is an account (broker.py), so replacing a node's certificate (re-keying a
lost node) or removing a node must make its old certificate useless: provisioning keeps a
ledger of every client certificate it issued (``OUT/ca/issued``: serial and common name)
and revokes whatever the ledger holds beyond the accounts' current certificates.
"""

from __future__ import annotations

from pathlib import Path

from greenzone.provision import pki

LEDGER = Path("ca") / "issued"
CRL = "ward-crl.pem"


def _ledger(out: Path) -> dict[int, str]:
    path = out / LEDGER
    if not path.exists():
        return {}
    entries = (line.split(" ", 1) for line in path.read_text().splitlines() if line.strip())
    return {int(number, 16): name for number, name in entries}


def record(out: Path, cert_pem: bytes, name: str) -> int:
    """Note ``cert_pem`` in the ledger (once); its serial."""
    number = pki.serial(cert_pem)
    if number not in _ledger(out):
        path = out / LEDGER
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            fh.write(f"{number:x} {name}\n")
    return number


def crl_for(out: Path, ca: pki.Issued, current: set[int], existing: bytes | None) -> bytes:
    """The revocation list for everything issued but not ``current``; ``existing``
    as it is when it already revokes exactly that (a re-run changes nothing)."""
    revoked = set(_ledger(out)) - current
    if existing is not None and pki.revoked_serials(existing) == revoked:
        return existing
    return pki.make_crl(ca, sorted(revoked))


def revoked_names(out: Path, current: set[int]) -> list[str]:
    return sorted(name for number, name in _ledger(out).items() if number not in current)
