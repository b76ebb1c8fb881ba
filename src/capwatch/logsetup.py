"""Logging for the CLI and the daemon: text or JSON lines, with secrets redacted."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from capwatch.secrets import redact

# Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}
_HANDLER_NAME = "capwatch"


class RedactingFilter(logging.Filter):
    """Replace registered secrets in the message, arguments' rendering and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message, redact it, and drop the arguments (always keeps the record)."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(text)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        """Render one record as a JSON line."""
        obj: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                obj[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_text:
            obj["exc"] = record.exc_text
        elif record.exc_info and record.exc_info[0] is not None:
            obj["exc"] = redact(self.formatException(record.exc_info))
        return redact(json.dumps(obj, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """``2026-01-01T00:00:00Z INFO capwatch.x: message key=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """UTC ISO-8601 timestamps."""
        return datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def format(self, record: logging.LogRecord) -> str:
        """The line, plus ``key=value`` for extra fields, redacted."""
        line = super().format(record)
        extras = [
            f"{k}={v}"
            for k, v in vars(record).items()
            if k not in _STANDARD_ATTRS and not k.startswith("_")
        ]
        if extras:
            head, sep, tail = line.partition("\n")
            line = head + " " + " ".join(extras) + sep + tail
        return redact(line)


# Libraries that narrate routine work at INFO: APScheduler logs every job run, about 300 lines an
# hour from the daemon, which on a Pi ends up in the journal on the SD card. Below DEBUG they
# show warnings and errors only; -vv shows everything.
CHATTY_LOGGERS = ("apscheduler",)


def setup_logging(
    fmt: Literal["text", "json"] = "text",
    level: str | int = "INFO",
    *,
    stream: TextIO | None = None,
) -> None:
    """Configure the root logger: one stderr handler, chosen format, secrets redacted."""
    if fmt not in ("text", "json"):
        raise ValueError(f"log format must be 'text' or 'json' (got {fmt!r})")
    lvl = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(lvl, int):
        raise ValueError(f"unknown log level {level!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(lvl)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING if lvl > logging.DEBUG else logging.NOTSET)
