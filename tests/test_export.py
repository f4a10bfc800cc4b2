"""The consolidated workbook, checked by opening it again with openpyxl."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from domain.campaign import Campaign
from domain.text import vietnamese_sort_key
from domain.wording import format_vnd
from pipeline.consolidate import accepted_totals, proposed_by_several_units, reward_estimate
from pipeline.export import build_workbook
from tests.conftest import vn
from tests.snapshots import group, make_snapshot, person

NOW = vn(26, 17)


def sample(campaign: Campaign):  # type: ignore[no-untyped-def]
    return make_snapshot(
        campaign,
        NOW,
        {
            "H-TAMDUONG": (
                "accepted",
                [
                    group("UBND xã Bản Giang", turnout_percent=99.6),
                    person("Nguyễn Văn An", birth_year=1978),
                    person("Hoàng Thị Hòa", "provincial", "pm"),
                ],
            ),
            "SNV": (
                "accepted_late",
                [
                    group("Văn phòng Sở"),
                    person('=HYPERLINK("http://x","bấm")'),
                    person("NGUYỄN VĂN AN"),
                ],
            ),
            "STP": ("rejected", [person("Đặng Văn Quân")]),
        },
    )


def rows(ws: Worksheet) -> list[tuple[object, ...]]:
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


def header_index(table: list[tuple[object, ...]]) -> int:
    return next(i for i, r in enumerate(table) if r[0] == "STT")


def test_every_sheet_is_laid_out_as_the_decree_asks(campaign: Campaign) -> None:
    wb = load_workbook(BytesIO(build_workbook(sample(campaign))))
    for ws in wb.worksheets:
        cells = {c.coordinate: c for row in ws.iter_rows() for c in row if c.value is not None}
        texts = {c.value: c for c in cells.values() if isinstance(c.value, str)}
        assert ws["A1"].value == "UBND TỈNH LAI CHÂU" and not ws["A1"].font.b
        assert ws["A2"].value == "SỞ NỘI VỤ" and ws["A2"].font.b
        assert texts["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"].font.b
        motto = texts["Độc lập - Tự do - Hạnh phúc"]
        assert motto.font.b and motto.font.sz == 14
        assert any(str(c.value).startswith("\u2014\u2014\u2014") for c in ws[3])  # the rules
        dated = next(c for v, c in texts.items() if v.startswith("Lai Châu, ngày "))
        assert (
            dated.font.i
            and dated.value == f"Lai Châu, ngày {NOW.astimezone(campaign.tz):%d} tháng 5 năm 2021"
        )
        assert any(v.startswith("(Kèm theo Tờ trình số") and "/TTr-SNV" in v for v in texts)
        assert "KT. GIÁM ĐỐC" in texts and "PHÓ GIÁM ĐỐC" in texts
        fonts = {c.font.name for c in cells.values()}
        assert fonts == {"Times New Roman"}, (ws.title, fonts)


def test_sheets_groups_numbering_and_totals(campaign: Campaign) -> None:
    wb = load_workbook(BytesIO(build_workbook(sample(campaign))))
    assert wb.sheetnames == ["Tập thể", "Cá nhân", "Đề nghị PM", "So với phân bổ"]
    individuals = rows(wb["Cá nhân"])
    titles = [r[0] for r in individuals[:10]]
    assert "DANH SÁCH CÁ NHÂN ĐỀ NGHỊ TẶNG BẰNG KHEN CỦA CHỦ TỊCH UBND TỈNH" in titles
    at = header_index(individuals)
    assert individuals[at][:3] == ("STT", "Họ và tên", "Năm sinh")
    body = individuals[at + 1 :]
    assert body[0][:2] == ("I", "UBND huyện Tam Đường (2 cá nhân)")
    assert body[1][:3] == (1, "Nguyễn Văn An", 1978)
    assert body[3][:2] == ("II", "Sở Nội vụ (2 cá nhân – nộp muộn)")
    assert "Tổng cộng: 4 cá nhân" in [r[1] for r in body]
    assert all("Đặng Văn Quân" not in str(r) for r in body)  # rejected lists are not consolidated
    pm = rows(wb["Đề nghị PM"])
    assert any(r[1] == "Hoàng Thị Hòa" for r in pm)


def test_nothing_from_a_unit_becomes_a_formula(campaign: Campaign) -> None:
    wb = load_workbook(BytesIO(build_workbook(sample(campaign))))
    cells = [
        c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None
    ]
    assert all(c.data_type != "f" for c in cells)
    hyperlink = next(
        c for c in cells if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")
    )
    assert hyperlink.data_type == "s"


def test_comparison_with_the_allocation(campaign: Campaign) -> None:
    wb = load_workbook(BytesIO(build_workbook(sample(campaign))))
    table = rows(wb["So với phân bổ"])
    by_unit = {r[1]: r for r in table if isinstance(r[0], int)}
    assert len(by_unit) == len(campaign.units)
    assert by_unit["UBND huyện Tam Đường"][2:8] == ("đã tiếp nhận", 1, 6, 1, 14, 2)
    # A rejected unit shows what it proposed, as the digest does, and is left out of the total.
    stp = by_unit["Sở Tư pháp"]
    assert stp[2] == "có lỗi, chờ gửi lại" and stp[7] == 1 and "không tính vào tổng" in str(stp[10])
    assert by_unit["UBND thành phố Lai Châu"][2] == "chưa nộp"
    total = next(r for r in table if r[1] == "Tổng cộng (hồ sơ đã tiếp nhận)")
    assert total[4:8] == (89, 2, 209, 4)


def test_print_setup(campaign: Campaign) -> None:
    wb = load_workbook(BytesIO(build_workbook(sample(campaign))))
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9  # A4
        at = header_index(rows(ws)) + 1
        assert ws.print_title_rows == f"${at}:${at}"
        assert ws.freeze_panes == f"A{at + 1}"


def test_totals_shared_nominees_and_rewards(campaign: Campaign) -> None:
    snapshot = sample(campaign)
    totals = accepted_totals(snapshot)
    assert totals["provincial"]["collective"] == 2 and totals["provincial"]["individual"] == 4  # type: ignore[index]
    shared = proposed_by_several_units(snapshot)
    assert [(s.name, s.units) for s in shared] == [
        ("Nguyễn Văn An", ("UBND huyện Tam Đường", "Sở Nội vụ"))
    ]
    money = sum(line.amount for line in reward_estimate(snapshot))
    # 2 collectives × 2 × 1.49M + 4 individuals × 1.49M + 1 PM individual × 3.5 × 1.49M
    assert format_vnd(money) == "17.135.000 đồng"


def test_vietnamese_collation() -> None:
    words = [
        "Đào",
        "Dung",
        "Ân",
        "Anh",
        "Ăn",
        "An",
        "Hỏa",
        "Hóa",
        "Hoa",
        "Họa",
        "Hòa",
        "Hõa",
        "ông",
        "Ơn",
        "Ổn",
    ]
    assert sorted(words, key=vietnamese_sort_key) == [
        "An",
        "Anh",
        "Ăn",
        "Ân",
        "Dung",
        "Đào",
        "Hoa",
        "Hòa",
        "Hỏa",
        "Hõa",
        "Hóa",
        "Họa",
        "Ổn",
        "ông",
        "Ơn",
    ]
