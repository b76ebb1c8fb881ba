"""A rendered notification (subject, text, HTML, chart) and its outbox payload form."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CHART_NAME = "capwatch-chart.png"


@dataclass(frozen=True, slots=True)
class Report:
    """One message ready to send: the same numbers as plain text and as HTML, plus the chart."""

    subject: str
    text: str
    html: str
    png: bytes | None = None

    def attachments(self) -> list[tuple[str, bytes, str]]:
        """The chart as an attachment (name, bytes, MIME type), when there is one."""
        return [(CHART_NAME, self.png, "image/png")] if self.png else []

    def to_payload(self) -> dict[str, Any]:
        """JSON-safe form for the outbox (the PNG base64-encoded)."""
        payload: dict[str, Any] = {"subject": self.subject, "text": self.text, "html": self.html}
        if self.png:
            payload["png_b64"] = base64.b64encode(self.png).decode("ascii")
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Report:
        """Rebuild a report stored by :meth:`to_payload`."""
        png = payload.get("png_b64")
        return cls(
            subject=str(payload["subject"]),
            text=str(payload.get("text", "")),
            html=str(payload.get("html", "")),
            png=base64.b64decode(png) if png else None,
        )

    @staticmethod
    def is_rendered(payload: Mapping[str, Any]) -> bool:
        """True when ``payload`` holds a rendered report (not a raw alert event)."""
        return "subject" in payload and "text" in payload
