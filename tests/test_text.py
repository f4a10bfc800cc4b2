from domain.text import clean, compact, fold, person_key


def test_clean_normalises_to_nfc_and_folds_whitespace() -> None:
    decomposed = "Nguye\u0302\u0303n\u00a0Va\u0306n\u200b  An\n"
    assert clean(decomposed) == "Nguyễn Văn An"


def test_fold_removes_diacritics_and_case() -> None:
    assert fold("HÌNH THỨC\nKhen thưởng") == "hinh thuc khen thuong"
    assert fold("Đơn vị") == "don vi"


def test_compact_keeps_letters_and_digits_only() -> None:
    assert compact("Tờ_trình-số 12") == "totrinhso12"


def test_person_key_ignores_case_and_tone_placement_but_not_tones() -> None:
    assert person_key("Hoàng Thị Hoà") == person_key("HOÀNG THỊ HÒA")
    assert person_key("Ủy ban") == person_key("Uỷ ban")
    assert person_key("Hòa") != person_key("Hóa")
    assert person_key("Lan") != person_key("Lân")


def test_the_place_and_date_line_as_the_decree_writes_it() -> None:
    from datetime import date

    from domain.wording import document_date_text

    assert document_date_text("Lai Châu", date(2021, 5, 26)) == "Lai Châu, ngày 26 tháng 5 năm 2021"
    assert document_date_text("Lai Châu", date(2021, 1, 5)) == "Lai Châu, ngày 05 tháng 01 năm 2021"
    assert document_date_text("Lai Châu", date(2021, 2, 9)) == "Lai Châu, ngày 09 tháng 02 năm 2021"
    assert (
        document_date_text("Lai Châu", date(2021, 12, 1)) == "Lai Châu, ngày 01 tháng 12 năm 2021"
    )
