"""A unit's message examined, with no database and no mailbox: unpack, extract, validate.

The intake cycle and the fuzz tests call the same function, so what is tested is what runs.
"""

from __future__ import annotations

from datetime import datetime

from domain.campaign import Campaign, Unit
from domain.model import Attachment, Extraction, ParsedEmail
from pipeline.documents import SPREADSHEET_EXTENSIONS, UNSUPPORTED_SPREADSHEET_EXTENSIONS
from pipeline.extract import extract
from pipeline.findings import finding
from pipeline.unpack import ARCHIVE_EXTENSIONS, is_tnef, unpack
from pipeline.validate import Verdict, validate


def looks_like_submission(mail: ParsedEmail) -> bool:
    """Whether it carries what a dossier would: a spreadsheet, an archive or a winmail.dat."""
    sheets = SPREADSHEET_EXTENSIONS | UNSUPPORTED_SPREADSHEET_EXTENSIONS | ARCHIVE_EXTENSIONS
    return any(a.extension in sheets or is_tnef(a) for a in mail.attachments)


def examine(
    mail: ParsedEmail, unit: Unit, campaign: Campaign, received_at: datetime
) -> tuple[list[Attachment], Extraction, Verdict]:
    """Returns the files as read (out of any archive), what was read from them, and the verdict."""
    unpacked = unpack(mail.attachments)
    extraction = extract(unpacked.attachments, campaign)
    extraction.findings[:0] = unpacked.findings  # about the containers: first in the reply
    if mail.structure_unreadable:
        extraction.findings.insert(0, finding("MESSAGE_STRUCTURE_UNREADABLE"))
    return unpacked.attachments, extraction, validate(extraction, unit, campaign, received_at)
