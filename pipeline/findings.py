"""The catalogue: every sentence the pipeline says about a message, in Vietnamese.

- `CATALOGUE`: every finding code a rule can raise, its severity, what is wrong and, as `fix`,
  the shortest way to put it right. Codes are stable (stored, shown to operators, documented in
  docs/findings.md); rules build findings only through `finding()`.
- `CLAUSES`: the optional parts of a finding's text, filled in by `clause()`.
- `REASONS`: why a file or an archive could not be read, raised as `Unreadable(reason(...))`.
- `OUTCOME_DETAILS`: what triage decided about a message, as the operator and the desk read it.

Mail texts (replies, digests, reminders) are templates in `pipeline/templates`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.kinds import Severity
from domain.model import Finding, Location


@dataclass(frozen=True)
class FindingType:
    severity: Severity
    message: str
    fix: str


E, W = Severity.ERROR, Severity.WARNING

CATALOGUE: dict[str, FindingType] = {
    # Finding the list
    "LIST_MISSING": FindingType(
        E,
        "Thư không kèm danh sách đề nghị khen thưởng dạng bảng tính Excel.{word_list}",
        "Đính kèm danh sách đề nghị (tệp Excel .xlsx) và gửi lại toàn bộ hồ sơ.",
    ),
    "LIST_FORMAT_UNSUPPORTED": FindingType(
        E,
        "Tệp {file} có định dạng {extension}, hệ thống chưa đọc được định dạng này.",
        "Mở tệp bằng Excel, chọn File → Save As → Excel Workbook (.xlsx) (Tệp → Lưu thành → Sổ "
        "làm việc Excel), rồi gửi lại tệp .xlsx.",
    ),
    "MESSAGE_STRUCTURE_UNREADABLE": FindingType(
        E,
        "Thư có cấu trúc lồng nhau quá nhiều lớp (thường do chuyển tiếp thư nhiều lần) nên hệ "
        "thống không đọc được các tệp đính kèm.",
        "Soạn một thư mới, đính kèm trực tiếp danh sách và các tài liệu (không chuyển tiếp thư "
        "cũ), rồi gửi lại.",
    ),
    # Containers
    "ARCHIVE_FORMAT_UNSUPPORTED": FindingType(
        W,
        "Tệp {file} là {kind}; hệ thống chỉ mở được tệp nén .zip nên chưa đọc được các tệp bên trong.",
        "Đính kèm trực tiếp từng tệp vào thư (không cần nén), hoặc nén lại dạng .zip (chuột phải "
        "vào thư mục → Send to → Compressed (zipped) folder; Gửi tới → Thư mục nén) rồi gửi lại.",
    ),
    "ARCHIVE_UNREADABLE": FindingType(
        W,
        "Không mở được tệp nén {file}: {reason}.",
        "Đính kèm trực tiếp từng tệp vào thư (không cần nén) rồi gửi lại.",
    ),
    "ARCHIVE_PASSWORD_PROTECTED": FindingType(
        W,
        "Tệp {entry} trong tệp nén {file} có đặt mật khẩu nên hệ thống không mở được.",
        "Nén lại không đặt mật khẩu, hoặc đính kèm trực tiếp tệp đó vào thư rồi gửi lại.",
    ),
    "TNEF_UNREADABLE": FindingType(
        W,
        "Thư được Outlook gửi kèm dạng {file} (winmail.dat) mà hệ thống không đọc được ({reason}).",
        "Trong Outlook, chọn File → Options → Mail → Compose messages in this format: HTML (Tệp → "
        "Tùy chọn → Thư → Soạn thư theo định dạng: HTML), rồi gửi lại thư kèm các tệp.",
    ),
    "LIST_UNREADABLE": FindingType(
        E,
        "Không mở được tệp {file}: {reason}.",
        "Kiểm tra tệp mở được bằng Excel và không đặt mật khẩu, lưu lại dạng .xlsx rồi gửi lại.",
    ),
    "LIST_PASSWORD_PROTECTED": FindingType(
        E,
        "Tệp {file} có đặt mật khẩu nên hệ thống không mở được.",
        "Mở tệp, chọn File → Info → Protect Workbook → Encrypt with Password (Tệp → Thông tin → "
        "Bảo vệ sổ làm việc → Mã hóa bằng mật khẩu), xóa mật khẩu, lưu lại rồi gửi lại.",
    ),
    "FILE_TYPE_MISMATCH": FindingType(
        W,
        "Tệp {file} có đuôi {extension} nhưng thực chất là {actual}; hệ thống vẫn đọc được.",
        "Lần sau hãy lưu tệp đúng định dạng (File → Save As → Excel Workbook .xlsx; Tệp → Lưu "
        "thành → Sổ làm việc Excel).",
    ),
    "MACROS_IGNORED": FindingType(
        W,
        "Tệp {file} có chứa macro; hệ thống chỉ đọc số liệu, không chạy macro.",
        "Nên lưu danh sách dạng .xlsx (không macro) khi gửi lần sau.",
    ),
    "LEGACY_FONT": FindingType(
        W,
        "Trang {sheet} của tệp {file} được gõ bằng phông chữ cũ {encoding}; hệ thống đã tự "
        "chuyển sang Unicode.",
        "Kiểm tra lại họ tên trong thư này; lần sau hãy gõ bằng phông Unicode (Times New Roman) "
        "với bảng mã Unicode.",
    ),
    "HEADER_NOT_FOUND": FindingType(
        E,
        "Không tìm thấy dòng tiêu đề cột của danh sách.",
        'Danh sách cần một dòng tiêu đề có cột "Họ và tên" (hoặc "Tên tập thể") và cột '
        '"Hình thức khen thưởng", như mẫu danh sách đề nghị.',
    ),
    "NAME_COLUMN_NOT_FOUND": FindingType(
        E,
        "Trang {sheet} có bảng (các cột {headers}) nhưng không có cột tên tập thể hay họ tên cá "
        "nhân, nên không đọc được ai trong trang tính này.",
        'Thêm cột "Họ và tên" (cá nhân) hoặc "Tên tập thể" vào dòng tiêu đề của trang tính {sheet} '
        "rồi gửi lại.",
    ),
    "COLUMN_MISSING": FindingType(
        E,
        'Danh sách thiếu cột "{column}".',
        'Thêm cột "{column}" vào dòng tiêu đề và điền cho từng dòng.',
    ),
    "NO_NOMINEES": FindingType(
        E,
        "Danh sách không có tập thể, cá nhân nào được đề nghị.",
        "Điền các tập thể, cá nhân đề nghị khen thưởng bên dưới dòng tiêu đề rồi gửi lại.",
    ),
    "TOO_MANY_ROWS": FindingType(
        E,
        "Trang tính có hơn {limit} dòng; hệ thống chỉ đọc {limit} dòng đầu.",
        "Xóa các dòng thừa, chỉ giữ danh sách đề nghị, rồi gửi lại.",
    ),
    # Reading rows
    "CELL_EMPTY": FindingType(
        E,
        'Ô "{column}" bị bỏ trống.',
        'Điền "{column}" cho dòng này.',
    ),
    "AWARD_TITLE_DIFFERS": FindingType(
        W,
        'Tiêu đề trang tính {sheet} ghi đề nghị {title_award}, nhưng cột "Hình thức khen thưởng" '
        'của {count} dòng ghi {cell_awards}; hệ thống ghi nhận theo cột "Hình thức khen thưởng".',
        'Nếu các dòng đó đề nghị {title_award}, sửa cột "Hình thức khen thưởng"; nếu không, sửa '
        "tiêu đề cho đúng.",
    ),
    "ROW_UNRECOGNISED": FindingType(
        W,
        'Dòng {row} của trang tính {sheet} không được đọc là tập thể hay cá nhân nào: "{text}".',
        'Nếu dòng này là một tập thể hoặc cá nhân được đề nghị, ghi tên vào cột "Họ và tên / Tên '
        'tập thể" và ghi hình thức khen thưởng; nếu không, có thể xóa dòng này.',
    ),
    "KIND_UNKNOWN": FindingType(
        E,
        'Không xác định được "{name}" là tập thể hay cá nhân.',
        'Đặt dòng này dưới mục "I. TẬP THỂ" hoặc "II. CÁ NHÂN", hoặc thêm cột "Tập thể/Cá nhân".',
    ),
    "AWARD_UNKNOWN": FindingType(
        E,
        'Không nhận ra hình thức khen thưởng "{value}".',
        "Ghi một trong các hình thức: {award_names}.",
    ),
    "BIRTH_YEAR_INVALID": FindingType(
        W,
        'Năm sinh "{value}" không hợp lệ.',
        "Ghi năm sinh 4 chữ số (ví dụ 1978) hoặc ngày sinh dạng dd/mm/yyyy.",
    ),
    "TURNOUT_INVALID": FindingType(
        E,
        'Không đọc được tỷ lệ cử tri đi bầu "{value}".',
        "Ghi tỷ lệ dạng số phần trăm, ví dụ 99,8%.",
    ),
    # Checking the list against the campaign
    "DUPLICATE_NOMINEE": FindingType(
        E,
        '{kind} "{name}" được đề nghị {award} hai lần (trùng với {other}).',
        "Xóa một trong hai dòng trùng.",
    ),
    "QUOTA_EXCEEDED": FindingType(
        E,
        "Đơn vị đề nghị {count} {kind} tặng {award}, vượt chỉ tiêu được phân bổ là {allowed}.",
        "Bớt {excess} {kind} để số đề nghị không quá {allowed}.",
    ),
    "PROVINCE_QUOTA_EXCEEDED": FindingType(
        W,
        "Đơn vị đề nghị {count} {kind} tặng {award}, trong khi cả tỉnh chỉ có {allowed}.",
        "Sở Nội vụ sẽ lựa chọn trong số được đề nghị; nên đề nghị các trường hợp tiêu biểu nhất.",
    ),
    "AWARD_PREREQUISITE_MISSING": FindingType(
        E,
        '{kind} "{name}" được đề nghị {award} nhưng không được đề nghị {required}.',
        '{award} được lựa chọn trong số các tập thể, cá nhân đề nghị {required}: ghi "{name}" '
        "là đề nghị cả {required} (trong cột Hình thức khen thưởng hoặc thêm một dòng).",
    ),
    "DOCUMENT_MISSING": FindingType(
        E,
        "Hồ sơ đề nghị {award} thiếu {document}.",
        'Đính kèm {document} (tệp .pdf, .doc hoặc .docx; tên tệp có chữ "{document_short}").',
    ),
    "NOMINEE_DOCUMENT_MISSING": FindingType(
        E,
        'Thiếu {document} của {kind} "{name}" (đề nghị {award}).',
        'Đính kèm {document} của "{name}", đặt tên tệp có chữ "{document_short}" và tên '
        '"{name}"{alternative}.',
    ),
    "TURNOUT_MISSING": FindingType(
        W,
        'Chưa ghi tỷ lệ cử tri đi bầu của "{name}" nên chưa kiểm tra được tiêu chuẩn {award}.',
        'Ghi tỷ lệ cử tri đi bầu (ví dụ 99,8%) nếu "{name}" là xã, phường, thị trấn hoặc huyện.',
    ),
    "TURNOUT_BELOW_THRESHOLD": FindingType(
        E,
        'Tỷ lệ cử tri đi bầu của "{name}" là {turnout}%, thấp hơn mức {threshold}% '
        "cần có để đề nghị {award}.",
        'Bỏ "{name}" khỏi đề nghị {award}, hoặc sửa lại tỷ lệ nếu ghi nhầm.',
    ),
    # Digital signatures on PDF papers
    "SIGNATURE_MODIFIED": FindingType(
        E,
        "Tệp {file}: {how} sau khi {signer} ký số ({organisation}); nội dung không còn là nội "
        "dung đã ký.",
        "Gửi lại bản PDF đúng như khi ký (không mở ra sửa, không thêm chữ, không in ra rồi quét "
        "lại bản đã sửa); nếu cần sửa nội dung, sửa bản gốc rồi ký số lại.",
    ),
    "SIGNATURE_PARTIAL": FindingType(
        W,
        "Tệp {file}: chữ ký số của {signer} chỉ bao phần đầu của tệp; phần được thêm vào sau khi "
        "ký không có chữ ký.",
        "Gửi lại bản PDF được tạo ra khi ký số (không ghép thêm trang hay nội dung sau khi ký).",
    ),
    "SIGNATURE_UNTRUSTED": FindingType(
        W,
        "Tệp {file}: chứng thư số của {signer} ({organisation}) không do tổ chức cung cấp dịch vụ "
        "chứng thực mà Sở Nội vụ công nhận cấp.",
        "Ký bằng chứng thư số do Ban Cơ yếu Chính phủ cấp cho cơ quan, đơn vị (hoặc liên hệ "
        "{office} nếu đơn vị dùng chứng thư của tổ chức khác).",
    ),
    "SIGNATURE_OTHER_ORGANISATION": FindingType(
        W,
        "Tệp {file} được ký số bởi {signer} của {organisation}, không phải của {unit}.",
        "Kiểm tra lại: giấy tờ của đơn vị cần do người có thẩm quyền của đơn vị ký số.",
    ),
    "SIGNATURE_MISSING": FindingType(
        W,
        "{document} ({file}) chưa được ký số.",
        "Gửi bản PDF có chữ ký số của người có thẩm quyền và của cơ quan, đơn vị (Nghị định "
        "30/2020/NĐ-CP).",
    ),
    "SIGNATURE_UNREADABLE": FindingType(
        W,
        "Không kiểm tra được chữ ký số trên tệp {file}: tệp PDF bị hỏng hoặc không đúng định dạng.",
        "Xuất lại tệp PDF từ phần mềm ký số và gửi lại.",
    ),
    "LATE_SUBMISSION": FindingType(
        E,
        "Hồ sơ nhận lúc {received}, sau thời hạn {deadline} ({stated}).",
        "{late_fix}",
    ),
    "DOCUMENT_UNRECOGNISED": FindingType(
        W,
        "Không xác định được tệp {file} là loại tài liệu nào trong hồ sơ.",
        'Đặt tên tệp có chữ "Tờ trình", "Biên bản", "Tóm tắt thành tích" hoặc '
        '"Báo cáo thành tích".',
    ),
}


def finding(
    code: str,
    *,
    location: Location | None = None,
    value: object = None,
    severity: Severity | None = None,
    **params: Any,
) -> Finding:
    """A finding of a catalogued type, its text filled with `params` (and `value`)."""
    kind = CATALOGUE[code]
    text_value = None if value is None else str(value)
    fields = {"value": text_value or "", **params}
    return Finding(
        code=code,
        severity=severity or kind.severity,
        message=kind.message.format(**fields),
        fix=kind.fix.format(**fields),
        location=location,
        value=text_value,
    )


CLAUSES: dict[str, str] = {
    "word_list": " Tệp {files} có vẻ là danh sách nhưng không phải bảng tính nên không đọc được số "
    "liệu.",
    "summary_in_list": ', hoặc ghi vào cột "Tóm tắt thành tích" của danh sách',
    "late_rejected": "Hồ sơ nộp muộn không được tiếp nhận; nếu có lý do chính đáng, liên hệ "
    "{office}, {department}.",
    "late_flagged": "Hồ sơ vẫn được tiếp nhận nhưng được đánh dấu là nộp muộn.",
}


def clause(name: str, **params: Any) -> str:
    return CLAUSES[name].format(**params)


REASONS: dict[str, str] = {
    "damaged": "tệp bị hỏng hoặc không phải bảng tính",
    "damaged_by": "tệp bị hỏng hoặc không phải bảng tính ({error})",
    "damaged_excel": "tệp bị hỏng hoặc không phải bảng tính Excel ({error})",
    "damaged_sheet": "nội dung trang tính bị hỏng hoặc bất thường ({error})",
    "damaged_structure": "tệp bị hỏng (không đọc được cấu trúc bảng tính)",
    "damaged_zip": "tệp bị hỏng (không giải nén được)",
    "damaged_csv": "tệp CSV bị hỏng (dòng hoặc dấu ngoặc kép không khớp)",
    "too_many_entries": "tệp chứa hơn {limit} thành phần, bất thường với một bảng tính",
    "bomb": "tệp khi giải nén lớn bất thường (có thể là tệp độc hại); "
    "hãy lưu lại danh sách thành tệp mới",
    "password": "tệp có đặt mật khẩu",
    "password_to_open": "tệp có đặt mật khẩu mở tệp",
    "not_a_spreadsheet": "tệp thực chất là {kind}, không phải bảng tính",
    "archive_damaged": "tệp bị hỏng hoặc không phải tệp nén",
    "archive_too_deep": "tệp nén lồng trong tệp nén quá {depth} lớp",
    "archive_too_much": "các tệp bên trong quá nhiều hoặc quá lớn",
    "archive_too_large": "các tệp bên trong quá lớn",
    "archive_entry_damaged": "tệp {entry} bên trong bị hỏng",
    "tnef_damaged": "tệp bị hỏng hoặc bị cắt cụt",
}


def reason(code: str, **params: Any) -> str:
    return REASONS[code].format(**params)


OUTCOME_DETAILS: dict[str, str] = {
    "duplicate": "bản trùng của thư số {original}",
    "how_to_submit_sent": "đã gửi hướng dẫn nộp hồ sơ",
    "unknown_automatic": "không trả lời: thư tự động ({robot})",
    "unknown_unusable_address": "không trả lời: địa chỉ người gửi không dùng được để trả lời",
    "unknown_no_spreadsheet": "không trả lời: thư không kèm bảng tính",
    "unknown_reply_capped": "không trả lời: đã đủ số thư trả lời trong ngày cho địa chỉ này",
    "unknown_unverified": "không trả lời: máy chủ nhận thư báo {reason}, địa chỉ người gửi có "
    "thể bị giả mạo",
    "unknown_global_cap": "không trả lời: đã gửi {count} thư hướng dẫn cho các địa chỉ chưa đăng "
    "ký trong một {per}, mức tối đa cho phép",
    "suspicious": "nghi giả mạo địa chỉ của đơn vị: {reason}",
    "automatic": "thư tự động ({robot})",
    "too_large": "thư {size} MB, vượt giới hạn",
    "nothing_again": "không kèm tệp, đã trả lời thư như vậy trong 24 giờ qua: cần người đọc",
    "answers_us": "đơn vị trả lời thư của hệ thống, không kèm tệp: cần người đọc",
    "submission": "{unit}, lần gửi thứ {version}: {status}",
    # Appended when a reply was due but the policy held it back.
    "reply_capped": "; không trả lời: đã đủ số thư trả lời trong ngày cho địa chỉ này",
    "reply_already_sent": "; không trả lời: đã trả lời thư như vậy trong 24 giờ qua",
}


def outcome_detail(code: str, **params: Any) -> str:
    return OUTCOME_DETAILS[code].format(**params)
