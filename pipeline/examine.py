"""A unit's message examined, with no database and no mailbox: unpack, extract, validate.

The intake cycle and the fuzz tests call the same function, so what is tested is what runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.campaign import Campaign, Unit
from domain.kinds import Severity
from domain.model import Attachment, Extraction, Finding, ParsedEmail
from pipeline.documents import SPREADSHEET_EXTENSIONS, UNSUPPORTED_SPREADSHEET_EXTENSIONS
from pipeline.extract import extract
from pipeline.findings import finding
from pipeline.signatures import Certificate, with_signatures
from pipeline.unpack import ARCHIVE_EXTENSIONS, is_tnef, unpack
from pipeline.validate import Verdict, validate


def looks_like_submission(mail: ParsedEmail) -> bool:
    """Whether it carries what a dossier would: a spreadsheet, an archive or a winmail.dat."""
    sheets = SPREADSHEET_EXTENSIONS | UNSUPPORTED_SPREADSHEET_EXTENSIONS | ARCHIVE_EXTENSIONS
    return any(a.extension in sheets or is_tnef(a) for a in mail.attachments)


# Containers that could not be opened: when no list was found elsewhere, the list was most
# likely inside, and the reply says that (as an error) instead of "no list attached".
REFUSED_CONTAINERS = frozenset(
    {
        "ARCHIVE_FORMAT_UNSUPPORTED",
        "ARCHIVE_UNREADABLE",
        "ARCHIVE_PASSWORD_PROTECTED",
        "TNEF_UNREADABLE",
    }
)


def one_account(container_findings: list[Finding], extracted: list[Finding]) -> list[Finding]:
    """The containers' findings, made one coherent account with what was read: a refused
    container is the error when no list was found (and "no list attached" is dropped), a
    warning when the list came anyway. Takes `LIST_MISSING` out of `extracted` in the first case."""
    refused = [f for f in container_findings if f.code in REFUSED_CONTAINERS]
    missing = [f for f in extracted if f.code == "LIST_MISSING"]
    if not (refused and missing):
        return container_findings
    for f in missing:
        extracted.remove(f)
    return [
        replace(f, severity=Severity.ERROR) if f.code in REFUSED_CONTAINERS else f
        for f in container_findings
    ]


def examine(
    mail: ParsedEmail,
    unit: Unit,
    campaign: Campaign,
    received_at: datetime,
    trust_roots: Sequence[Certificate] | None = None,
) -> tuple[list[Attachment], Extraction, Verdict]:
    """Returns the files as read (out of any archive), what was read from them, and the verdict.
    `trust_roots`: the CA certificates signatures must chain to (None: none configured)."""
    unpacked = unpack(mail.attachments)
    extraction = extract(unpacked.attachments, campaign)
    extraction.documents = with_signatures(
        extraction.documents, unpacked.attachments, trust_roots or ()
    )
    extraction.findings[:0] = one_account(unpacked.findings, extraction.findings)
    if mail.structure_unreadable:
        extraction.findings.insert(0, finding("MESSAGE_STRUCTURE_UNREADABLE"))
    verdict = validate(extraction, unit, campaign, received_at, trust_roots is not None)
    return unpacked.attachments, extraction, verdict
