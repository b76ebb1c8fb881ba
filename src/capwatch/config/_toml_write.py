"""A small TOML writer for what capwatch dumps (tables, arrays of tables, scalars, lists)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from capwatch.secrets import REFERENCE_KINDS

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key: str) -> str:
    """A key, quoted when it is not bare."""
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    """One TOML value written inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{" + (f" {inner} " if inner else "") + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_inline(value: Any) -> bool:
    """Secret references stay inline: ``password = {env = "X"}``."""
    return (
        isinstance(value, Mapping)
        and len(value) == 1
        and next(iter(value)) in REFERENCE_KINDS
        and isinstance(next(iter(value.values())), str)
    )


def _is_table_array(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, Mapping) and not _is_inline(v) for v in value)
    )


def dumps(data: Mapping[str, Any]) -> str:
    """Write a mapping as a TOML document."""
    out: list[str] = []
    _write_table(data, (), out)
    return "\n".join(out).strip("\n") + "\n"


def _write_table(data: Mapping[str, Any], prefix: tuple[str, ...], out: list[str]) -> None:
    tables: list[tuple[str, Mapping[str, Any]]] = []
    arrays: list[tuple[str, list[Mapping[str, Any]]]] = []
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, Mapping) and not _is_inline(value):
            tables.append((key, value))
        elif _is_table_array(value):
            arrays.append((key, value))
        else:
            out.append(f"{toml_key(key)} = {toml_value(value)}")
    for key, table in tables:
        path = (*prefix, key)
        out.extend(["", f"[{'.'.join(toml_key(p) for p in path)}]"])
        _write_table(table, path, out)
    for key, items in arrays:
        path = (*prefix, key)
        for item in items:
            out.extend(["", f"[[{'.'.join(toml_key(p) for p in path)}]]"])
            _write_table(item, path, out)
