"""Best-effort map from TOML key paths to line numbers, for error messages."""

from __future__ import annotations

import re

Path_ = tuple[str | int, ...]

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"|\'[^\']*\''
_KEY_PART = re.compile(rf"\s*({_BARE}|{_QUOTED})\s*")
_HEADER = re.compile(r"^\s*(\[\[?)(.*?)(\]\]?)\s*(#.*)?$")


def _split_key(text: str) -> tuple[list[str], int] | None:
    """Split a dotted key at the start of ``text``; return parts and the end offset."""
    parts: list[str] = []
    pos = 0
    while True:
        m = _KEY_PART.match(text, pos)
        if m is None:
            return None
        raw = m.group(1)
        parts.append(raw[1:-1] if raw[:1] in "\"'" else raw)
        pos = m.end()
        if pos < len(text) and text[pos] == ".":
            pos += 1
            continue
        return parts, pos


def _open_brackets(text: str) -> int:
    """Net count of [ and { outside strings on one line (comments ignored)."""
    depth, quote, i = 0, "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        i += 1
    return depth


def key_lines(text: str) -> dict[Path_, int]:
    """Map each key and table path (array indices resolved) to its 1-based line number."""
    lines: dict[Path_, int] = {}
    counts: dict[Path_, int] = {}
    current: Path_ = ()
    depth = 0
    in_multiline = ""
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if in_multiline in line:
                in_multiline = ""
            continue
        if depth > 0:
            depth += _open_brackets(line)
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = _HEADER.match(line)
        if header and stripped.startswith("["):
            split = _split_key(header.group(2))
            if split is None:
                continue
            current = _resolve(tuple(split[0]), counts, header.group(1) == "[[")
            lines.setdefault(current, lineno)
            continue
        split = _split_key(line)
        if split is None or split[1] >= len(line) or line[split[1]] != "=":
            continue
        parts, end = split
        lines.setdefault(current + tuple(parts), lineno)
        rest = line[end + 1 :]
        for quote in ('"""', "'''"):
            if rest.count(quote) == 1:
                in_multiline = quote
        depth = _open_brackets(rest) if not in_multiline else 0
    return lines


def _resolve(parts: tuple[str, ...], counts: dict[Path_, int], array: bool) -> Path_:
    """Turn a header's dotted key into a path, using the latest index of enclosing arrays."""
    path: Path_ = ()
    for i, part in enumerate(parts):
        path = (*path, part)
        last = i == len(parts) - 1
        if last and array:
            idx = counts.get(path, -1) + 1
            counts[path] = idx
            return (*path, idx)
        if path in counts:
            path = (*path, counts[path])
    return path


def find_line(lines: dict[Path_, int], loc: Path_) -> int | None:
    """The line of the longest prefix of ``loc`` found in ``lines``."""
    for n in range(len(loc), 0, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None
