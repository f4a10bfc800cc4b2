"""A test certificate authority and signers made with `cryptography`, and PDFs signed with pyHanko
the way a unit's office signs them (incremental update, visible or invisible field)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

NOW = datetime(2021, 5, 20, tzinfo=UTC)


@dataclass(frozen=True)
class Identity:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _name(common: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def make_ca(name: str = "Test CA Ban Cơ yếu") -> Identity:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = _name(name, "Ban Cơ yếu Chính phủ (thử)")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=365))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return Identity(key, cert)


def make_signer(ca: Identity, common: str, organisation: str) -> Identity:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common, organisation))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=30))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Identity(key, cert)


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def sign_pdf(
    pdf: bytes, who: Identity, ca: Identity, *, visible: bool = False, field: str = "ChuKy1"
) -> bytes:
    """`pdf` signed by `who` in an incremental update (the CA's certificate embedded)."""
    der_key = who.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = signers.SimpleSigner(
        signing_cert=_asn1_cert(who.cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(ca.cert)]),  # type: ignore[no-untyped-call]
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    spec = (
        fields.SigFieldSpec(sig_field_name=field, box=(350, 60, 550, 120))
        if visible
        else fields.SigFieldSpec(sig_field_name=field)
    )
    fields.append_signature_field(writer, spec)
    out = BytesIO()
    signers.sign_pdf(
        writer,
        signers.PdfSignatureMetadata(field_name=field),
        signer=signer,
        output=out,
    )
    return out.getvalue()


def tamper(signed: bytes) -> bytes:
    """Change the page's text after signing, in an incremental update (as an editor saves)."""
    writer = IncrementalPdfFileWriter(BytesIO(signed), strict=False)
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    from pyhanko.pdf_utils import generic

    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 700 Td (Da sua sau khi ky) Tj ET")
    page["/Contents"] = writer.add_object(stream)
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()
