"""The support bundle (``capwatch doctor --bundle FILE``): one zip a user can send, holding what
a developer needs to see why an ISP's reply was refused, and nothing secret.

Inside::

    README.txt                          what is here and how to read it back
    doctor.txt                          the doctor's findings
    accounts/<name>/poll-log.txt        the newest poll log lines
    accounts/<name>/reply-<n>.json      refused replies as received (``capwatch_reply``), which
                                        ``capwatch check-response PROVIDER FILE`` reads back
    accounts/<name>/diagnostics/<b>/    the provider's diagnostics bundles (meta.json, page.html;
                                        screenshots are left out: they may show a person)

Every text goes through :func:`capwatch.secrets.redact` (the registered secrets) on the way in;
the replies and pages were redacted when they were saved, and are redacted again here.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capwatch.fsutil import write_atomic
from capwatch.secrets import redact

if TYPE_CHECKING:
    from capwatch.config import Settings
    from capwatch.store.api import Store

REPLIES_KEPT = 5
POLLS_KEPT = 20

README = """capwatch support bundle
=======================

Made by `capwatch doctor --bundle`. Secrets (passwords, tokens, keys the config names) were
taken out; read the files before you send them if you want to be sure.

- doctor.txt: what `capwatch doctor` found.
- accounts/<name>/poll-log.txt: the newest polls of each account and how they ended.
- accounts/<name>/reply-<n>.json: replies the ISP sent that capwatch refused, as received.
  Read one back with the provider's own parser:

      capwatch check-response PROVIDER accounts/<name>/reply-1.json

- accounts/<name>/diagnostics/: what a failed sign-in or poll saw (page.html, meta.json);
  `capwatch check-response PROVIDER accounts/<name>/diagnostics/<bundle>` reads those too.
"""


def _replies(store: Store, account: str, provider: str) -> list[dict[str, Any]]:
    out = []
    for stored in store.payloads(account, limit=50):
        try:
            body = json.loads(stored.body)
        except ValueError:
            continue
        if isinstance(body, dict) and isinstance(body.get("capwatch_reply"), str):
            body.setdefault("provider", provider)
            body["first_seen"] = stored.first_seen.isoformat()
            body["times_seen"] = stored.times_seen
            out.append(body)
        if len(out) >= REPLIES_KEPT:
            break
    return out


def _diagnostics(account_dir: Path) -> Iterable[tuple[str, bytes]]:
    from capwatch.diagnostics import list_bundles

    for bundle in list_bundles(account_dir / "diagnostics"):
        for name in ("meta.json", "page.html"):
            path = bundle / name
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                yield f"diagnostics/{bundle.name}/{name}", redact(text).encode("utf-8")


def write_bundle(settings: Settings, store: Store, findings: list[str], target: Path) -> list[str]:
    """Write the support bundle to ``target`` (a zip, atomically); return its members."""
    buf = io.BytesIO()
    members: list[str] = []

    def add(name: str, data: bytes) -> None:
        info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
        info.external_attr = 0o600 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data)
        members.append(name)

    with zipfile.ZipFile(buf, "w") as archive:
        add("README.txt", README.encode("utf-8"))
        add("doctor.txt", redact("\n".join(findings) + "\n").encode("utf-8"))
        for account in settings.accounts:
            base = f"accounts/{account.name}"
            lines = [
                f"{e.started_at.isoformat()} {e.outcome.value:<12} {e.error_class or '-'}: "
                f"{e.message or ''}"
                for e in store.poll_log(account.name, limit=POLLS_KEPT)
            ]
            add(f"{base}/poll-log.txt", redact("\n".join(lines) + "\n").encode("utf-8"))
            for n, reply in enumerate(_replies(store, account.name, account.provider), 1):
                reply["capwatch_reply"] = redact(reply["capwatch_reply"])
                text = json.dumps(reply, indent=1, ensure_ascii=False)
                add(f"{base}/reply-{n}.json", text.encode("utf-8"))
            for name, data in _diagnostics(settings.data_dir / "accounts" / account.name):
                add(f"{base}/{name}", data)
    write_atomic(target, buf.getvalue(), mode=0o600)
    return members
