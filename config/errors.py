"""A configuration file's problems in the operator's words: pydantic's English details and
tomllib's syntax errors turned into Vietnamese sentences naming the key (and the line)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError


class ConfigurationError(ValueError):
    """A settings or campaign file is wrong; `problems` says how, one Vietnamese sentence each."""

    def __init__(self, kind: str, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Tệp {kind} {source} có {len(problems)} lỗi:\n{lines}")


def _expected(ctx: dict[str, Any]) -> str:
    return str(ctx.get("expected", "")).replace(" or ", " hoặc ")


# pydantic's error types, as an operator reads them (the common ones; others keep pydantic's).
_PHRASES: dict[str, Callable[[dict[str, Any]], str]] = {
    "literal_error": lambda e: f"phải là {_expected(e.get('ctx', {}))}",
    "enum": lambda e: f"phải là {_expected(e.get('ctx', {}))}",
    "int_parsing": lambda e: "phải là một số nguyên",
    "int_type": lambda e: "phải là một số nguyên",
    "float_parsing": lambda e: "phải là một số",
    "float_type": lambda e: "phải là một số",
    "bool_parsing": lambda e: "phải là true hoặc false",
    "bool_type": lambda e: "phải là true hoặc false",
    "string_type": lambda e: 'phải là một chuỗi trong dấu ngoặc kép ("…")',
    "greater_than": lambda e: f"phải lớn hơn {e.get('ctx', {}).get('gt')}",
    "greater_than_equal": lambda e: f"phải từ {e.get('ctx', {}).get('ge')} trở lên",
    "less_than_equal": lambda e: f"phải không quá {e.get('ctx', {}).get('le')}",
    "time_parsing": lambda e: 'phải là giờ dạng "17:00"',
    "date_from_datetime_parsing": lambda e: "phải là ngày dạng 2021-05-26",
    "dict_type": lambda e: "phải là một bảng [mục]",
    "list_type": lambda e: "phải là một danh sách [ … ]",
    "value_error": lambda e: str(e.get("ctx", {}).get("error", e.get("msg", ""))),
}


def describe_validation_error(err: ValidationError) -> list[str]:
    problems = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(gốc)"
        if e["type"] == "missing":
            problems.append(f"Thiếu mục '{where}'.")
        elif e["type"] == "extra_forbidden":
            problems.append(f"Mục '{where}' không được hỗ trợ (kiểm tra chính tả).")
        else:
            phrase = _PHRASES.get(e["type"])
            said = phrase(dict(e)) if phrase else e["msg"]
            problems.append(f"Mục '{where}' không hợp lệ: {said} (giá trị: {e.get('input')!r}).")
    return problems


def describe_toml_error(err: tomllib.TOMLDecodeError) -> str:
    """tomllib says "Expected ']' … (at line 2, column 9)": the place, in Vietnamese."""
    text = str(err)
    place = re.search(r"\(at line (\d+), column (\d+)\)", text)
    detail = re.sub(r"\s*\(at line \d+, column \d+\)", "", text)
    if place:
        return f"Sai cú pháp TOML ở dòng {place.group(1)}, cột {place.group(2)} ({detail})."
    return f"Sai cú pháp TOML ({detail})."
