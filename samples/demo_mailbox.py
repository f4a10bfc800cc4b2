"""Fill a local Maildir with sample submissions for the campaign (the no-server demo).

    python -m samples.demo_mailbox var/demo/mailbox

The messages tell the story of a deadline week: complete dossiers, an over-quota list, a list
with errors and its corrected resubmission, a late one, a sender the Department does not know,
an out-of-office reply, a legacy .xls file, the same email delivered twice.
"""

from __future__ import annotations

import argparse
import socket
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from samples.factories import (
    PM,
    PROVINCIAL,
    XLSX,
    File,
    NominationList,
    Row,
    build_email,
    build_workbook,
    collectives,
    dossier,
    people,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2021, 5, day, hour, minute, tzinfo=VN)


def sample_messages() -> list[bytes]:
    messages: list[bytes] = []

    tam_duong = NominationList(
        "UBND huyện Tam Đường",
        collectives(
            ["UBND xã Bản Giang", "UBND xã Hồ Thầu", "UBND thị trấn Tam Đường"], turnout="99,6%"
        ),
        people("Nguyễn Văn", 10)
        + [
            Row(
                "Hoàng Thị Hòa",
                award=f"{PROVINCIAL}; đề nghị {PM}",
                position="Phó Chủ tịch UBND huyện",
                birth=1975,
            )
        ],
        with_turnout=True,
    )
    messages.append(
        build_email(
            sender="vanphong@tamduong.laichau.gov.vn",
            sender_name="Văn phòng HĐND-UBND huyện Tam Đường",
            subject="V/v gửi hồ sơ đề nghị khen thưởng thành tích trong công tác bầu cử ĐBQH khóa XV và HĐND các cấp nhiệm kỳ 2021-2026",
            files=dossier(tam_duong, reports_for=["Hoàng Thị Hòa"]),
            date=at(20, 9, 15),
        )
    )

    snv = NominationList(
        "Sở Nội vụ",
        collectives(["Phòng Xây dựng chính quyền", "Văn phòng Sở"]),
        people("Trần Thị", 6),
        layout="sheets",
    )
    snv_mail = build_email(
        sender="vanphong.snv@laichau.gov.vn",
        sender_name="Sở Nội vụ",
        subject="Sở Nội vụ gửi danh sách đề nghị khen thưởng công tác bầu cử",
        files=dossier(snv),
        date=at(21, 14, 2),
    )
    messages.append(snv_mail)

    phong_tho = NominationList(
        "UBND huyện Phong Thổ",
        collectives(
            [
                f"UBND xã {n}"
                for n in [
                    "Dào San",
                    "Mù Sang",
                    "Sì Lở Lầu",
                    "Vàng Ma Chải",
                    "Ma Li Pho",
                    "Pa Vây Sử",
                    "Tông Qua Lìn",
                    "Mồ Sì San",
                ]
            ],
            turnout=0.992,
        ),
        people("Lò Văn", 12),
        with_turnout=True,
    )
    messages.append(
        build_email(
            sender="VanPhong@PhongTho.LaiChau.gov.vn",
            sender_name="UBND huyện Phong Thổ",
            subject="Hồ sơ khen thưởng bầu cử - huyện Phong Thổ",
            files=dossier(phong_tho),
            date=at(22, 10, 40),
        )
    )

    sin_ho_v1 = NominationList(
        "UBND huyện Sìn Hồ",
        collectives(["UBND xã Pa Tần", "UBND xã Nậm Tăm"], turnout="96,5%"),
        people("Vàng A", 8),
        with_turnout=True,
    )
    messages.append(
        build_email(
            sender="vanphong@sinho.laichau.gov.vn",
            sender_name="UBND huyện Sìn Hồ",
            subject="Danh sách đề nghị khen thưởng bầu cử huyện Sìn Hồ",
            files=dossier(sin_ho_v1, bien_ban=False),
            date=at(23, 8, 30),
        )
    )
    sin_ho_v2 = NominationList(
        "UBND huyện Sìn Hồ",
        collectives(["UBND xã Nậm Tăm"], turnout="98,1%"),
        people("Vàng A", 8),
        with_turnout=True,
    )
    messages.append(
        build_email(
            sender="vanphong@sinho.laichau.gov.vn",
            sender_name="UBND huyện Sìn Hồ",
            subject="Gửi lại danh sách đề nghị khen thưởng bầu cử huyện Sìn Hồ (bản sửa)",
            files=dossier(sin_ho_v2),
            date=at(24, 16, 5),
        )
    )

    stp = NominationList(
        "Sở Tư pháp",
        collectives(["Phòng Phổ biến giáo dục pháp luật"]),
        [Row("Đặng Văn Quân", award=PM, position="Phó Giám đốc Sở")] + people("Phạm Thị", 2),
    )
    messages.append(
        build_email(
            sender="vanphong.stp@laichau.gov.vn",
            sender_name="Sở Tư pháp",
            subject="Sở Tư pháp đề nghị khen thưởng",
            files=dossier(stp),
            date=at(24, 9, 0),
        )
    )

    messages.append(
        build_email(
            sender="vanphong.stc@laichau.gov.vn",
            sender_name="Sở Tài chính",
            subject="Sở Tài chính gửi danh sách khen thưởng",
            files=[
                File(
                    "DS khen thuong bau cu.xls",
                    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504,
                    "application/vnd.ms-excel",
                )
            ]
            + dossier(NominationList("Sở Tài chính"), to_trinh=True)[1:],
            date=at(24, 11, 20),
        )
    )

    mttq = NominationList(
        "Ủy ban MTTQ Việt Nam tỉnh",
        collectives(["Ban Phong trào"]),
        people("Lường Văn", 5),
        layout="kind_column",
    )
    messages.append(
        build_email(
            sender="vanphong.mttq@laichau.gov.vn",
            sender_name="Ủy ban MTTQ tỉnh",
            subject="Ủy ban MTTQ tỉnh gửi hồ sơ khen thưởng",
            files=dossier(mttq),
            date=at(25, 15, 45),
        )
    )

    cat = NominationList(
        "Công an tỉnh",
        collectives(["Phòng Tham mưu", "Phòng An ninh chính trị nội bộ"]),
        [
            Row(f"Thượng tá {n}", position="Trưởng phòng")
            for n in ["Nguyễn Đức Thắng", "Lê Văn Hùng"]
        ]
        + people("Đại úy Hà Văn", 4),
    )
    messages.append(
        build_email(
            sender="thiduakhenthuong.cat@laichau.gov.vn",
            sender_name="Công an tỉnh Lai Châu",
            subject="Công an tỉnh gửi hồ sơ đề nghị khen thưởng (gửi muộn)",
            files=dossier(cat),
            date=at(26, 8, 30),
        )
    )

    stranger = NominationList("UBND xã Bản Bo", collectives(["Thôn Nà Đông"]), people("Lò Thị", 2))
    messages.append(
        build_email(
            sender="xabanbo.tamduong@gmail.com",
            sender_name="Xã Bản Bo",
            subject="gửi danh sách khen thưởng",
            files=[File("danh sach.xlsx", build_workbook(stranger), XLSX)],
            date=at(22, 20, 12),
        )
    )

    messages.append(
        build_email(
            sender="vanphong.syt@laichau.gov.vn",
            sender_name="Sở Y tế",
            subject="Trả lời tự động: Đi công tác",
            body="Tôi đang đi công tác đến hết ngày 28/5.",
            headers={"Auto-Submitted": "auto-replied"},
            date=at(21, 7, 0),
        )
    )

    messages.append(snv_mail)  # the same email delivered a second time
    return messages


def write_maildir(path: Path) -> int:
    """Write the sample messages into a Maildir, in order; returns how many were written."""
    for sub in ("new", "cur", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().replace("/", "_").replace(":", "_")
    messages = sample_messages()
    for index, raw in enumerate(messages, 1):
        (path / "new" / f"{index:04d}.sample.{host}").write_bytes(raw)
    return len(messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="the Maildir to create (must not exist yet)")
    args = parser.parse_args()
    if args.path.exists():
        print(f"{args.path} đã tồn tại: giữ nguyên hộp thư mẫu hiện có.")
        return
    count = write_maildir(args.path)
    print(f"Đã tạo hộp thư mẫu {args.path} với {count} thư.")


if __name__ == "__main__":
    main()
