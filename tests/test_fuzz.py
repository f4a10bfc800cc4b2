"""Generated hostile input through the pure stages: parse, unpack, extract, validate, annotate and
the reply. Whatever a mail holds, the stages answer with findings and never raise. (Should one
raise all the same, the message stays stored, is retried and then quarantined for
`intake reprocess`: tests/test_intake_imap.py::test_a_message_that_keeps_failing_is_quarantined_then_replayed.)

Hypothesis builds mails from damaged versions of real files (cut, bytes flipped, spliced) in real
MIME shapes, and raw bytes with no shape at all. CI runs a fixed, derandomised set of examples;
`HYPOTHESIS_PROFILE=explore pytest tests/test_fuzz.py` searches further.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.campaign import load_campaign
from domain.campaign import Campaign
from domain.kinds import Severity, SubmissionStatus
from pipeline.annotate import annotated_copies
from pipeline.examine import examine
from pipeline.parse import parse_message
from pipeline.reply import (
    SubmissionReply,
    can_reply_to,
    compose_submission_reply,
    count_rows,
    group_findings,
)
from samples.factories import NominationList, build_workbook, collectives, people
from tests.conftest import CAMPAIGN_FILE
from tests.corpus.cases import (
    BIEN_BAN_TEXT,
    FILES,
    Part,
    csv_bytes,
    docx,
    mail,
    ods,
    standard_rows,
    tnef,
    xlsx,
    zip_archive,
)

# Hangs, not speed, are what the deadline catches: one example may take a second on a slow
# machine; one that takes half a minute is stuck in a loop.
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=120,
    deadline=timedelta(seconds=30),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "explore",
    max_examples=2000,
    deadline=timedelta(seconds=30),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CAMPAIGN: Campaign = load_campaign(CAMPAIGN_FILE)
UNIT = CAMPAIGN.units[0]
SENDER = UNIT.senders[0]
WORKBOOK = build_workbook(
    NominationList("Sở Nội vụ", collectives(["Phòng Tổ chức"]), people("Lò Thị", 3))
)
SEEDS: dict[str, bytes] = {
    "Danh sách.xlsx": WORKBOOK,
    "Danh sách.ods": ods(standard_rows()),
    "Danh sách.csv": csv_bytes(standard_rows(), "cp1258"),
    "Danh sách.xls": (FILES / "danh-sach-excel-97.xls").read_bytes(),
    "Hồ sơ.zip": zip_archive({"Hồ sơ/Danh sách.xlsx": xlsx({"DS": standard_rows()})}, "cp1258"),
    "winmail.dat": tnef([("Danh sách.xlsx", WORKBOOK), ("Biên bản.pdf", b"%PDF-1.4\n")]),
    "scan-0001.pdf": (FILES / "scan-0001.pdf").read_bytes(),
    "Văn bản.docx": docx(BIEN_BAN_TEXT),
}


@st.composite
def damaged(draw: st.DrawFn, payload: bytes) -> bytes:
    """A real file cut short, with bytes overwritten, or with a slice repeated."""
    data = bytearray(payload)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["cut", "flip", "splice"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if action == "cut":
            del data[at:]
        elif action == "flip":
            data[at : at + 8] = draw(st.binary(min_size=1, max_size=8))
        else:
            data[at:at] = data[max(0, at - 64) : at] * draw(st.integers(1, 3))
    return bytes(data)


@st.composite
def attachments(draw: st.DrawFn) -> Part:
    seed_name = draw(st.sampled_from(sorted(SEEDS)))
    payload = draw(damaged(SEEDS[seed_name]))
    name = draw(st.sampled_from([seed_name, "scan.pdf", "x", "../../a.xlsx", "Tờ\u202etrình.pdf"]))
    content_type = draw(
        st.sampled_from(["application/octet-stream", "application/ms-tnef", "text/csv"])
    )
    return Part(name, payload, content_type)


@st.composite
def mails(draw: st.DrawFn) -> bytes:
    parts = draw(st.lists(attachments(), max_size=4))
    client = draw(st.sampled_from(["outlook", "gmail", "zimbra", "thunderbird"]))
    subject = draw(st.text(max_size=80))
    return mail("<fuzz@corpus.test>", SENDER, parts, client=client, subject=subject or "Hồ sơ")


def through_the_stages(raw: bytes) -> EmailMessage | None:
    """The reply the intake cycle would send for a message (none to a sender without a usable
    address), with the database left out."""
    parsed = parse_message(raw)
    received = datetime(2021, 5, 20, 2, 0, tzinfo=UTC)
    _, extraction, verdict = examine(parsed, UNIT, CAMPAIGN, received)
    reply = SubmissionReply(
        campaign=CAMPAIGN,
        unit=UNIT,
        status=SubmissionStatus.ACCEPTED if verdict.accepted else SubmissionStatus.REJECTED,
        version=1,
        received_at=received,
        counts=count_rows(extraction.nominees, UNIT, CAMPAIGN),
        documents=extraction.documents,
        errors=group_findings(verdict.findings, Severity.ERROR),
        warnings=group_findings(verdict.findings, Severity.WARNING),
        annotated=annotated_copies(extraction.lists_read, verdict.findings),
    )
    if not can_reply_to(parsed.from_address):
        return None
    return compose_submission_reply(reply, parsed, "Sở Nội vụ", received)


@given(mails())
def test_damaged_files_in_real_mail_shapes_get_a_reply_never_an_exception(raw: bytes) -> None:
    answer = through_the_stages(raw)
    assert answer is not None
    text = answer.get_body(("plain",))
    assert text is not None and "Kính gửi" in str(text.get_content())


@given(st.binary(max_size=4000) | st.builds(lambda b: b"From: x@y\r\n\r\n" + b, st.binary()))
def test_raw_bytes_with_no_shape_at_all_never_raise(raw: bytes) -> None:
    through_the_stages(raw)
