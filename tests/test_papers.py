"""The Department's own papers: the Tờ trình draft (opened again with python-docx), the reward
amounts by the date of the decision, the forward package and its manifest, and the package
written once after the deadline and announced in the digest."""

from __future__ import annotations

import csv
import email
import hashlib
import io
import json
import zipfile
from dataclasses import replace
from datetime import date
from email import policy
from pathlib import Path

from docx import Document
from typer.testing import CliRunner

from cli import app, load_app_from
from domain.campaign import Campaign, RewardPeriod
from domain.kinds import NomineeKind
from domain.snapshot import PaperEntry, Selected
from pipeline.package import DossierFile, build_package
from pipeline.to_trinh import draft_to_trinh
from samples.demo_mailbox import write_maildir
from tests.conftest import CAMPAIGN_FILE, vn, write_maildir_config
from tests.snapshots import group, make_snapshot, person
from tests.test_faults import poll

NOW = vn(28, 9)


def sample(campaign: Campaign):  # type: ignore[no-untyped-def]
    hoa = person("Hoàng Thị Hòa", "provincial", "pm")
    snapshot = make_snapshot(
        campaign,
        NOW,
        {
            "H-TAMDUONG": ("accepted", [group("UBND xã Bản Giang"), person("Nguyễn Văn An"), hoa]),
            "STP": ("rejected", [person("Đặng Văn Quân")]),
        },
    )
    chosen = Selected("pm", "H-TAMDUONG", NomineeKind.INDIVIDUAL, hoa.name, hoa, "canbo")
    return replace(snapshot, selected=(chosen,))


def text_of(payload: bytes) -> tuple[str, set[str | None]]:
    doc = Document(io.BytesIO(payload))
    paragraphs = [p for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                paragraphs.extend(cell.paragraphs)
    fonts = {r.font.name for p in paragraphs for r in p.runs if r.text.strip()}
    return "\n".join(p.text for p in paragraphs), fonts


def test_the_to_trinh_draft_says_what_is_proposed_and_what_it_costs(campaign: Campaign) -> None:
    drafted = draft_to_trinh(sample(campaign), date(2021, 5, 28))
    text, fonts = text_of(drafted.payload)
    assert fonts == {"Times New Roman"}
    for expected in (
        "UBND TỈNH LAI CHÂU",
        "SỞ NỘI VỤ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Lai Châu, ngày 28 tháng 5 năm 2021",
        "/TTr-SNV",
        "TỜ TRÌNH",
        "Kính gửi: Chủ tịch UBND tỉnh Lai Châu.",
        "Có 2/25 cơ quan, đơn vị, địa phương gửi hồ sơ; 1 đơn vị có hồ sơ hợp lệ.",
        "Bằng khen của Chủ tịch UBND tỉnh (đề nghị): 01 tập thể (chỉ tiêu 89), 02 cá nhân (chỉ tiêu 209).",
        "Bằng khen của Thủ tướng Chính phủ (Sở Nội vụ lựa chọn): 00 tập thể (chỉ tiêu 3), 01 cá nhân (chỉ tiêu 3).",
        "Hoàng Thị Hòa (cá nhân, UBND huyện Tam Đường)",
        "5.215.000 đồng",  # 3.5 × 1.490.000, the PM individual
        "Nơi nhận:",
        "KT. GIÁM ĐỐC",
    ):
        assert expected in text, expected
    # 1 collective × 2.980.000 + 2 individuals × 1.490.000 + 1 PM individual × 5.215.000
    assert drafted.reward_total == 2_980_000 + 2 * 1_490_000 + 5_215_000
    assert "Đặng Văn Quân" not in text  # a rejected list is not proposed


def test_the_amounts_are_those_in_force_on_the_day_of_the_decision(campaign: Campaign) -> None:
    snapshot = sample(campaign)
    later = draft_to_trinh(snapshot, date(2023, 7, 1))
    assert later.reward_total == 2 * 1_800_000 + 2 * 1_800_000 + 3.5 * 1_800_000
    assert "1.800.000 đồng" in text_of(later.payload)[0]
    rounded = RewardPeriod(
        since=date(2025, 1, 1),
        basis="x",
        base_salary_vnd=1_490_000,
        multipliers={"pm": 3.5},
        round_up_to_vnd=10_000,
    )
    assert rounded.amount("pm", collective=False) == 5_220_000  # up to the next 10.000 đồng
    assert rounded.amount("pm", collective=True) == 10_430_000
    assert campaign.rewards.in_force(date(2021, 5, 28)).base_salary_vnd == 1_490_000
    assert campaign.rewards.in_force(date(2016, 1, 1)).base_salary_vnd == 1_490_000


def test_the_package_names_every_file_and_its_hash(campaign: Campaign) -> None:
    snapshot = sample(campaign)
    entry = snapshot.unit("H-TAMDUONG")
    letter = b"%PDF-1.4 to trinh"
    papers = [
        DossierFile(
            entry,
            PaperEntry(
                1,
                "Tờ trình số 12.pdf",
                "to_trinh",
                len(letter),
                hashlib.sha256(letter).hexdigest(),
                "x",
            ),
            letter,
        ),
        DossierFile(entry, PaperEntry(2, "Tờ trình số 12.pdf", "to_trinh", 3, "", "y"), b"abc"),
        # A paper the file store does not have: listed as missing, never left out in silence.
        DossierFile(entry, PaperEntry(3, "Biên bản.pdf", "bien_ban", 9, "", ""), None),
    ]
    archive = zipfile.ZipFile(io.BytesIO(build_package(snapshot, b"xlsx", b"docx", papers)))
    names = archive.namelist()
    assert "Hồ sơ các đơn vị/H-TAMDUONG - Tờ trình - Tờ trình số 12.pdf" in names
    assert "Hồ sơ các đơn vị/H-TAMDUONG - Tờ trình - Tờ trình số 12 (2).pdf" in names
    assert not any("Biên bản" in n for n in names)
    manifest = json.loads(archive.read("manifest.json"))
    for row in manifest["files"]:
        if row["path"]:
            assert hashlib.sha256(archive.read(row["path"])).hexdigest() == row["sha256"]
    [missing] = [r for r in manifest["files"] if r["original"] == "Biên bản.pdf"]
    assert missing["note"].startswith("KHÔNG CÓ TỆP") and missing["path"] == ""
    # Every unit is accounted for: the ones not in the package say why.
    left_out = {r["unit_code"]: r["note"] for r in manifest["files"] if r["kind"] == ""}
    assert left_out["STP"] == "không có trong gói: có lỗi, chờ gửi lại"
    assert left_out["SNV"] == "không có trong gói: chưa nộp"
    assert len(left_out) == len(campaign.units) - 1
    table = list(csv.reader(io.StringIO(archive.read("Danh mục.csv").decode("utf-8-sig"))))
    assert table[0][0] == "Mã đơn vị" and table[0][-1] == "Ghi chú"
    assert len(table) == 1 + 2 + len(papers) + len(left_out)


def test_the_package_is_written_once_after_the_deadline_and_the_digest_says_where(
    tmp_path: Path,
) -> None:
    write_maildir(tmp_path / "mailbox")
    config = write_maildir_config(tmp_path, CAMPAIGN_FILE)
    assert poll(config)[0] == 0
    application = load_app_from(config)
    assert application.package(vn(25, 12)) is None  # before the deadline
    written = application.package(vn(26, 0, 5))
    assert written is not None and written.path.exists() and written.units >= 4
    assert application.package(vn(26, 1)) is None  # once
    archive = zipfile.ZipFile(written.path)
    assert any(n.startswith("Hồ sơ các đơn vị/SNV - ") for n in archive.namelist())
    out = CliRunner().invoke(app, ["--config", str(config), "digest", "--preview"]).output
    assert "GÓI HỒ SƠ TRÌNH ĐÃ SẴN SÀNG" in out and str(written.path) in out


def test_the_departments_own_wording_overrides_a_template_without_a_rebuild(
    tmp_path: Path,
) -> None:
    from pipeline.envelope import use_templates_from

    write_maildir(tmp_path / "mailbox")
    config = write_maildir_config(tmp_path, CAMPAIGN_FILE)
    wording = tmp_path / "mau-thu"
    wording.mkdir()
    (wording / "_closing.txt.j2").write_text(
        "Kính thư./.\nPhòng Xây dựng chính quyền – gọi 0213 3876 999\n", encoding="utf-8"
    )
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("[outgoing]\n", f'[outgoing]\ntemplates_dir = "{wording}"\n'), encoding="utf-8"
    )
    try:
        assert poll(config)[0] == 0
        replies = sorted((tmp_path / "outbox").glob("*-acknowledgement.eml"))
        assert replies
        parsed = email.message_from_bytes(replies[0].read_bytes(), policy=policy.default)
        plain = parsed.get_body(("plain",))
        assert plain is not None
        content = str(plain.get_content())
        assert "Kính thư./." in content and "0213 3876 999" in content
        assert "Trân trọng./." not in content  # the built-in closing is replaced…
        html = parsed.get_body(("html",))
        assert html is not None and "Trân trọng./." in str(html.get_content())  # …file by file
    finally:
        use_templates_from(None)


def test_a_name_with_control_characters_does_not_break_the_draft(campaign: Campaign) -> None:
    snapshot = sample(campaign)
    broken = person("Lò Văn\x00 Tám\x0b", "provincial", "pm")
    chosen = Selected("pm", "H-TAMDUONG", NomineeKind.INDIVIDUAL, broken.name, broken, "canbo")
    text, _ = text_of(draft_to_trinh(replace(snapshot, selected=(chosen,)), NOW.date()).payload)
    assert "Lò Văn Tám" in text
