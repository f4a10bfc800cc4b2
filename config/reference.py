"""`docs/settings.md`, generated from the settings model: every key, its type, its default and
the environment variable that overrides it. `python -m config.reference > docs/settings.md`
remakes it; `tests/test_settings.py` fails when it is out of date."""

from __future__ import annotations

import inspect
import sys
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from config.settings import Settings


def _type(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return " or ".join(repr(a) for a in get_args(annotation))
    if get_origin(annotation) in (Union, UnionType):
        return " or ".join(_type(a) for a in get_args(annotation))
    if annotation is type(None):
        return "none"
    return str(getattr(annotation, "__name__", annotation))


def _section_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *get_args(annotation)):
        if inspect.isclass(candidate) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        section = _section_model(field.annotation)
        if section is not None:
            doc = inspect.cleandoc(section.__dict__.get("__doc__") or "")
            rows.append(f"| **`[{key}]`** | | | {doc.splitlines()[0] if doc else ''} |")
            rows += _rows(section, f"{key}.")
            continue
        default = "(required)" if field.default is PydanticUndefined else repr(field.default)
        if field.default_factory is not None:
            default = "(see section)"
        env = "INTAKE_" + key.upper().replace(".", "__")
        rows.append(f"| `{key}` | {_type(field.annotation)} | {default} | `{env}` |")
    return rows


def reference() -> str:
    lines = [
        "# Settings reference",
        "",
        "Generated from `config/settings.py` by `python -m config.reference`; do not edit by hand.",
        "Every key can be set in the TOML settings file or by the environment variable shown;",
        "passwords and secret keys only by the environment or a `…_FILE` pointing at a secrets file.",
        "",
        "| key | type | default | environment |",
        "|---|---|---|---|",
        *_rows(Settings, ""),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(reference())
