"""Digital signatures on a unit's PDF papers (Nghị định 30/2020/NĐ-CP, Article 21: check that an
incoming electronic document is authentic and intact): for each signature, who signed (the
certificate's name and organisation), when, whether the signed bytes are intact, whether anything
was changed after signing (pyHanko's difference analysis), whether it covers the whole file, and
whether the certificate chains to a trust root the operator configured (none are bundled).

Bounded: at most `MAX_SIGNATURES` are checked; a file pyHanko cannot read gets a reason, never an
exception. Pure: bytes and certificates in, plain data out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from io import BytesIO

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from domain.kinds import FileKind
from domain.model import Attachment, Document, PaperSignatures, SignatureCheck
from domain.text import fold
from pipeline.formats import identify

Certificate = asn1_x509.Certificate  # a trust root, as the callers name it
MAX_SIGNATURES = 10

# pyHanko logs a failed check (a tampered file, an unknown issuer) as an error with a traceback;
# for us that is the finding, not a fault of the program.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


def load_trust_roots(blobs: Sequence[bytes]) -> list[asn1_x509.Certificate]:
    """Certificates from the operator's files: PEM (one or several) or DER."""
    roots: list[asn1_x509.Certificate] = []
    for blob in blobs:
        if pem.detect(blob):
            roots.extend(asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(blob, True))
        else:
            roots.append(asn1_x509.Certificate.load(blob))
    return roots


def _subject(status: object) -> tuple[str, str]:
    cert = getattr(status, "signing_cert", None)
    if cert is None:
        return "", ""
    native = cert.subject.native
    organisation = ", ".join(
        str(native[k]) for k in ("organization_name", "organizational_unit_name") if k in native
    )
    return str(native.get("common_name", "")), organisation


def load_checker() -> None:
    """Import pyHanko now rather than at the first PDF: for the commands that handle mail, so
    their first message costs what the others do."""
    import pyhanko.sign.validation  # noqa: F401


# A whole PDF ends with its cross-reference offset and "%%EOF" (ISO 32000-1, 7.5.5); readers
# accept up to a kilobyte of trailing bytes after it.
_TAIL = 2048


def _plainly_unsigned(payload: bytes) -> bool:
    """A whole PDF with no signature dictionary in it. A signature's /ByteRange names the file
    offsets it covers, so it is written uncompressed, outside any object stream (ISO 32000-1,
    12.8.1): where the bytes lack it, no signature can be there, and pyHanko (milliseconds a
    file) has nothing to find. A file that does not end as a PDF goes to pyHanko, which says
    why it cannot be read."""
    tail = payload[-_TAIL:]
    return b"startxref" in tail and b"%%EOF" in tail and b"/ByteRange" not in payload


def check_signatures(
    payload: bytes, trust_roots: Sequence[asn1_x509.Certificate]
) -> PaperSignatures:
    if _plainly_unsigned(payload):
        return PaperSignatures()
    # pyHanko is imported here, when a PDF comes: it costs half a second at start-up otherwise,
    # for every `intake` command.
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    # Changes after signing that leave the signed content as it was: a later signature in its
    # own field (form filling), validation data (LTA updates).
    harmless = (
        ModificationLevel.NONE,
        ModificationLevel.LTA_UPDATES,
        ModificationLevel.FORM_FILLING,
    )

    try:
        reader = PdfFileReader(BytesIO(payload), strict=False)
        found = reader.embedded_signatures
    except Exception as err:  # a damaged PDF is the unit's problem, told as such
        return PaperSignatures(unreadable=f"{type(err).__name__}: {err}"[:300])
    checks: list[SignatureCheck] = []
    for embedded in found[:MAX_SIGNATURES]:
        try:
            # Only the operator's roots: never the system's (ValidationContext's default).
            context = ValidationContext(trust_roots=list(trust_roots), allow_fetching=False)
            status = validate_pdf_signature(embedded, context)
        except Exception as err:
            return PaperSignatures(tuple(checks), f"{type(err).__name__}: {err}"[:300])
        signer, organisation = _subject(status)
        level = status.modification_level
        checks.append(
            SignatureCheck(
                signer=signer,
                organisation=organisation,
                signed_at=status.signer_reported_dt,
                intact=bool(status.intact and status.valid),
                modified=level is not None and level not in harmless,
                whole=status.coverage is SignatureCoverageLevel.ENTIRE_FILE
                or (
                    status.coverage is SignatureCoverageLevel.ENTIRE_REVISION
                    and level not in (None, ModificationLevel.NONE)
                    and level in harmless
                ),
                trusted=bool(status.trusted),
            )
        )
    return PaperSignatures(tuple(checks), more=max(0, len(found) - MAX_SIGNATURES))


_UBND = ("uy ban nhan dan", "ubnd")


def _organisation_key(text: str) -> str:
    folded = " ".join(fold(text).split())
    long_form, short = _UBND
    return folded.replace(long_form, short)


def looks_like(organisation: str, names: Sequence[str]) -> bool:
    """Whether a certificate's organisation names the unit (its name or one of its aliases)."""
    org = _organisation_key(organisation)
    return bool(org) and any(
        (key := _organisation_key(name)) and (key in org or org in key) for name in names
    )


def with_signatures(
    documents: Sequence[Document],
    attachments: Sequence[Attachment],
    trust_roots: Sequence[asn1_x509.Certificate],
) -> list[Document]:
    """The papers, each PDF with its signatures checked (by content, whatever its name)."""
    payloads = {a.sha256: a.payload for a in attachments}
    checked = []
    for document in documents:
        payload = payloads.get(document.sha256, b"")
        if identify(payload) is FileKind.PDF:
            document = replace(document, signatures=check_signatures(payload, trust_roots))
        checked.append(document)
    return checked
