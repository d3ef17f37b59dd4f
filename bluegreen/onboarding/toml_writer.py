"""A small TOML writer for configuration dicts (tomllib only reads; no new dependency).

Writes tables, arrays of tables, strings, numbers, booleans and arrays of those; leaves None
out (TOML has no null). Used by `bluegreen init` for the starter configuration and by the
sandbox to hand a stack's configuration over as a file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def to_toml(data: Mapping[str, Any]) -> str:
    """Render a configuration dict as TOML: tables, arrays of tables, strings, numbers,
    booleans and arrays of those. None values are left out (TOML has no null)."""
    return "\n".join(_table(data, ())).strip() + "\n"


def _table(data: Mapping[str, Any], path: tuple[str, ...]) -> list[str]:
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items() if _is_inline(v)]
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{_dotted((*path, key))}]", *_table(value, (*path, key))]
        elif _is_table_array(value):
            for item in value:
                lines += ["", f"[[{_dotted((*path, key))}]]", *_table(item, (*path, key))]
    return lines


def _is_inline(value: Any) -> bool:
    return value is not None and not isinstance(value, Mapping) and not _is_table_array(value)


def _is_table_array(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and bool(value)
        and all(isinstance(v, Mapping) for v in value)
    )


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # a JSON string is a valid TOML basic string (same escapes), but for DEL, which
        # JSON leaves as is and TOML refuses unescaped
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):  # a table inside an array of scalars
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML: {value!r}")


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _value(key)


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(_key(part) for part in path)
