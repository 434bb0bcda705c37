"""A ward's certificate authority and the certificates it issues (``cryptography``).

One CA per ward: the broker trusts client certificates it signed and nodes trust the
broker certificate it signed, so a node of one ward cannot connect to another ward's
broker. Keys are ECDSA P-256: small, fast on a Raspberry Pi, supported by OpenSSL/Mosquitto.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
LEAF_DAYS = 825  # the longest leaf lifetime common TLS clients accept


@dataclass(frozen=True)
class Issued:
    """A key and its certificate, PEM-encoded, ready to write."""

    key_pem: bytes
    cert_pem: bytes

    @property
    def cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),  # services read it unattended, protected by file mode
    )


def _name(common_name: str, ward_id: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"checkpoint ward {ward_id}"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _window(days: int) -> tuple[datetime, datetime]:
    # Back-date by an hour: a node whose clock lags a little must still accept the broker.
    now = datetime.now(UTC)
    return now - timedelta(hours=1), now + timedelta(days=days)


def make_ca(ward_id: str) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"{ward_id} ward CA", ward_id)
    start, end = _window(CA_DAYS)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(_key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):  # keep order, drop repeats
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def issue(ca: Issued, ward_id: str, common_name: str, *, server_names: list[str] | None) -> Issued:
    """A leaf certificate: for the broker when ``server_names`` is given, else for a client."""
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError("the ward CA key must be an EC key")
    key = ec.generate_private_key(ec.SECP256R1())
    start, end = _window(LEAF_DAYS)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, ward_id))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if server_names:
        builder = builder.add_extension(_san(server_names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return Issued(_key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def covers(cert_pem: bytes, names: list[str]) -> bool:
    """Whether a server certificate names every one of ``names``."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    present = {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    present |= set(san.get_values_for_type(x509.DNSName))
    return {str(ipaddress.ip_address(n)) if _is_ip(n) else n for n in names} <= present


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def serial(cert_pem: bytes) -> int:
    return x509.load_pem_x509_certificate(cert_pem).serial_number


def make_crl(ca: Issued, revoked: list[int]) -> bytes:
    """The CA's revocation list of ``revoked`` serials, PEM. Its next update lies as far
    ahead as the CA's end: OpenSSL refuses every client once a CRL's next update passes,
    and provisioning writes a new one whenever the list changes."""
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError("the ward CA key must be an EC key")
    start, _end = _window(0)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(start)
        .next_update(ca.cert.not_valid_after_utc)
    )
    for number in sorted(revoked):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(number).revocation_date(start).build()
        )
    crl = builder.sign(ca_key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.PEM)


def revoked_serials(crl_pem: bytes) -> set[int]:
    return {entry.serial_number for entry in x509.load_pem_x509_crl(crl_pem)}
