"""Diagnostic bundles: what a failed fetch or login saw, with every secret taken out.

A bundle is a private directory (0700, files 0600) named ``<UTC time>-<provider>-<error>``::

    meta.json        time, account, provider, error class and message, HTTP status, URL path
    page.html        the page or body, redacted (registered secrets, password fields, tokens)
    screenshot.png   when a browser ran

Only the newest ``keep`` bundles of a directory are kept.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from capwatch.fsutil import write_atomic
from capwatch.secrets import MASK, redact

_BUNDLE_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[A-Za-z0-9_.-]+$")
_SAFE_RE = re.compile(r"[^A-Za-z0-9_.-]+")
_INPUT_RE = re.compile(r"<input\b[^>]*>", re.IGNORECASE | re.DOTALL)
_VALUE_RE = re.compile(r"""(\bvalue\s*=\s*)("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
_SENSITIVE_INPUT = re.compile(
    r"""type\s*=\s*["']?password|name\s*=\s*["']?[^"'\s>]*(passw|passwd|token|secret|code|"""
    r"""reqid|csrf|session|auth)""",
    re.IGNORECASE,
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), MASK),
    (
        re.compile(
            r"""(?i)(["']?(?:access_token|refresh_token|id_token|token|password|passwd|"""
            r"""code_verifier|client_secret)["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,&<"']+)"""
        ),
        rf'\1"{MASK}"',
    ),
    (re.compile(r"""(?i)((?:set-)?cookie\s*[:=]\s*["']?)([^<\n"']+)"""), rf"\1{MASK}"),
)


def redact_html(html: str, extra_secrets: Iterable[str] = ()) -> str:
    """Remove registered secrets, ``extra_secrets``, password/token field values and tokens."""
    text = redact(html)
    for secret in sorted((s for s in extra_secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)

    def _input(m: re.Match[str]) -> str:
        tag = m.group(0)
        if _SENSITIVE_INPUT.search(tag):
            return _VALUE_RE.sub(rf'\1"{MASK}"', tag)
        return tag

    text = _INPUT_RE.sub(_input, text)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def _path_only(url_path: str | None) -> str | None:
    if url_path is None:
        return None
    path = url_path.split("#", 1)[0].split("?", 1)[0]
    if "://" in path:  # a full URL: keep the path only
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return path


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` bundles in ``directory``; return what was deleted."""
    if not directory.is_dir():
        return []
    bundles = sorted(p for p in directory.iterdir() if p.is_dir() and _BUNDLE_RE.match(p.name))
    doomed = bundles[: max(len(bundles) - max(keep, 1), 0)]
    for p in doomed:
        shutil.rmtree(p, ignore_errors=True)
    return doomed


def save_bundle(
    dir: Path,
    *,
    account: str,
    provider: str,
    error: BaseException | str,
    url_path: str | None,
    status: int | None,
    html: str | None,
    screenshot: bytes | None,
    keep: int,
    extra_secrets: Iterable[str] = (),
) -> Path:
    """Write one redacted bundle under ``dir`` and prune to the newest ``keep``; return its path."""
    secrets = [s for s in extra_secrets if s]
    now = datetime.now(UTC)
    cls = type(error).__name__ if isinstance(error, BaseException) else "Error"
    name = f"{now:%Y%m%dT%H%M%S.%f}Z-{_SAFE_RE.sub('_', provider)}-{_SAFE_RE.sub('_', cls)}"
    dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    bundle = dir / name
    n = 1
    while bundle.exists():
        bundle = dir / f"{name}.{n}"
        n += 1
    bundle.mkdir(mode=0o700)
    bundle.chmod(0o700)
    meta = {
        "time": now.isoformat(),
        "account": account,
        "provider": provider,
        "error_class": cls,
        "message": redact_html(str(error), secrets),
        "status": status,
        "url_path": _path_only(url_path),
        "files": ["meta.json"]
        + (["page.html"] if html is not None else [])
        + (["screenshot.png"] if screenshot else []),
    }
    write_atomic(bundle / "meta.json", json.dumps(meta, indent=1).encode("utf-8"))
    if html is not None:
        write_atomic(bundle / "page.html", redact_html(html, secrets).encode("utf-8"))
    if screenshot:
        write_atomic(bundle / "screenshot.png", screenshot)
    prune(dir, keep)
    return bundle


def list_bundles(directory: Path) -> list[Path]:
    """Bundles in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_dir() and _BUNDLE_RE.match(p.name))
