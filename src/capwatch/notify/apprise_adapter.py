"""The one place capwatch talks to Apprise.

Each send builds a fresh :class:`apprise.Apprise` with an in-memory asset (no plugin paths, no
persistent storage), so Apprise's global plugin registry and its loading paths are never
touched. Apprise URLs hold passwords and tokens: every URL's secret parts are registered with
:func:`capwatch.secrets.redact`, and Apprise's log lines reach capwatch's log only redacted.

Email (``mailto://``/``mailtos://``) sends the HTML body with the chart as an inline image:
``inline=yes`` is added to the URL, Apprise then builds ``multipart/related`` with a
``Content-ID`` equal to the attachment's file name, and the HTML refers to ``cid:<name>``.
Other services get the chart as a plain attachment where they take one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger(__name__)

Attachment = tuple[str, bytes, str]
"""``(file name, content, MIME type)``."""

EMAIL_SCHEMES = ("mailto", "mailtos")


@dataclass(frozen=True, slots=True)
class SendResult:
    """Outcome of one send: ok when every URL accepted it; errors are redacted."""

    ok: bool
    sent: int
    failed: int
    errors: tuple[str, ...] = field(default=())

    @property
    def error(self) -> str | None:
        """All errors on one line, or None when everything went out."""
        return "; ".join(self.errors) if self.errors else None


def url_secrets(url: str) -> list[str]:
    """The parts of an Apprise URL that are secret: password, user, path tokens, query keys."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found: list[str] = []
    if parts.password:
        found += [parts.password, unquote(parts.password)]
    if "@" not in parts.netloc and ":" in parts.netloc:
        tail = parts.netloc.rsplit(":", 1)[1]
        if not tail.isdigit():
            found.append(parts.netloc)  # tgram://BOT_ID:TOKEN/...
    if parts.username and parts.password is None:
        found.append(parts.username)  # tgram://TOKEN@..., pover://USER@TOKEN
    found += [seg for seg in parts.path.split("/") if len(seg) >= 12]
    host = parts.hostname or ""
    if len(host) >= 12 and parts.scheme not in (*EMAIL_SCHEMES, "json", "jsons", "xml", "form"):
        found.append(host)  # discord://WEBHOOK_ID/TOKEN, ntfy topics and the like
    for key, value in parse_qsl(parts.query):
        if key.lower() in {"pass", "password", "token", "key", "apikey", "secret", "webhook"}:
            found.append(value)
    return [s for s in found if s and len(s) >= 4]


def register_url_secrets(urls: Sequence[str]) -> None:
    """Teach :func:`capwatch.secrets.redact` every secret part of ``urls``."""
    from capwatch.secrets import register_secret

    for url in urls:
        for value in url_secrets(url):
            register_secret(value)


def scrub(text: str, urls: Sequence[str] = ()) -> str:
    """``text`` with every URL of ``urls`` and every registered secret replaced by ``***``."""
    from capwatch.secrets import redact

    for url in sorted(urls, key=len, reverse=True):
        if url:
            text = text.replace(url, "***")
    for value in (v for url in urls for v in url_secrets(url)):
        text = text.replace(value, "***")
    return redact(text)


def for_email(url: str) -> str:
    """Add ``format=html`` and ``inline=yes`` to a mailto URL (unless the user set them)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in EMAIL_SCHEMES:
        return url
    keys = {k.lower() for k, _ in parse_qsl(urlsplit(url).query)}
    extra = [f"{k}={v}" for k, v in (("format", "html"), ("inline", "yes")) if k not in keys]
    if not extra:
        return url
    return url + ("&" if "?" in url else "?") + "&".join(extra)


class _RedactingFilter(logging.Filter):
    """Scrub Apprise's own log records before any handler sees them."""

    def __init__(self, urls: Sequence[str]) -> None:
        super().__init__()
        self.urls = list(urls)

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message by its redacted form; never drop it."""
        record.msg = scrub(record.getMessage(), self.urls)
        record.args = None
        return True


@contextmanager
def _quiet_apprise(urls: Sequence[str]) -> Iterator[None]:
    """While sending, redact Apprise's log records (they can carry URLs with passwords)."""
    logger = logging.getLogger("apprise")
    filt = _RedactingFilter(urls)
    logger.addFilter(filt)
    try:
        yield
    finally:
        logger.removeFilter(filt)


def _send_one(url: str, title: str, body: str, fmt: str, attach: Any, timeout: float) -> str | None:
    """Send to one URL; None on success, else a redacted reason."""
    import apprise

    asset = apprise.AppriseAsset(storage_mode="memory")
    client = apprise.Apprise(asset=asset)
    lines: list[str] = []

    def collect(entry: Any, _service: Any) -> None:
        lines.append(str(getattr(entry, "message", entry)))

    if not client.add(url):
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        return f"{scheme}:// URL not understood by Apprise"
    try:
        result = client.notify(
            body=body,
            title=title,
            body_format=fmt,
            attach=attach,
            timeout=timeout,
            log_callback=collect,
            log_level=logging.WARNING,
        )
    except Exception as exc:  # Apprise plugins raise all sorts; report, never crash
        return scrub(f"{type(exc).__name__}: {exc}", [url])
    if result:
        return None
    scheme = url.split("://", 1)[0]
    reason = "; ".join(dict.fromkeys(lines)) or "notification failed"
    return scrub(f"{scheme}: {reason}", [url])[:500]


def _attachments(items: Sequence[Attachment]) -> Any:
    """Apprise in-memory attachments (nothing written to disk)."""
    if not items:
        return None
    import apprise
    from apprise.attachment import memory

    attach_memory: Any = memory.AttachMemory

    bundle = apprise.AppriseAttachment()
    for name, content, mime in items:
        bundle.add(attach_memory(content=content, name=name, mimetype=mime))
    return bundle


def check_url(url: str) -> str | None:
    """Why Apprise cannot use ``url`` (unknown service, missing parts), or None when it can.

    Only parses: nothing is sent. The reason never contains the URL (it may hold secrets).
    """
    import apprise

    register_url_secrets([url])
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if not scheme:
        return "not an Apprise URL (expected service://...)"
    with _quiet_apprise([url]):
        asset = apprise.AppriseAsset(storage_mode="memory")
        plugin = apprise.Apprise.instantiate(url, asset=asset, suppress_exceptions=True)
    if plugin is not None:
        return None
    return f"Apprise cannot use this {scheme}:// URL (unknown service, or a part is missing)"


def send(
    urls: Sequence[str],
    *,
    title: str,
    body_text: str,
    body_html: str | None = None,
    attachments: Sequence[Attachment] = (),
    timeout: float = 30.0,
) -> SendResult:
    """Send one message to every URL: HTML with the chart inline to email, text elsewhere.

    Never raises for a failed delivery: the result says which URLs failed and why (redacted).
    """
    register_url_secrets(urls)
    errors: list[str] = []
    sent = 0
    with _quiet_apprise(urls):
        for url in urls:
            email = url.split("://", 1)[0].lower() in EMAIL_SCHEMES
            if email and body_html is not None:
                target, body, fmt = for_email(url), body_html, "html"
            else:  # chat and push services get the plain text: their HTML subsets vary
                target, body, fmt = url, body_text, "text"
            err = _send_one(target, title, body, fmt, _attachments(attachments), timeout)
            if err is None:
                sent += 1
            else:
                errors.append(err)
                log.warning("notification not sent: %s", err)
    return SendResult(
        ok=not errors and sent > 0, sent=sent, failed=len(errors), errors=tuple(errors)
    )
