"""Print the requirements of every integration the Home Assistant test sets up (``make test-ha``).

Run by the Home Assistant venv's Python: it reads the installed Home Assistant's own lists (the
integrations bootstrap always sets up) and each integration's ``manifest.json``, following
dependencies, so ``make test-ha`` installs them before the start and Home Assistant runs with
``--skip-pip``. The configured integrations are those of ``tests/fixtures/homeassistant.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CONFIGURED = {"http", "api", "history", "recorder", "logger", "mqtt", "sensor", "onboarding"}


def main() -> int:
    """Print one requirement a line, sorted."""
    from homeassistant import bootstrap, components

    root = Path(components.__file__).parent
    wanted = set(CONFIGURED) | bootstrap.DEFAULT_INTEGRATIONS | bootstrap.CORE_INTEGRATIONS
    seen: set[str] = set()
    requirements: set[str] = set()
    while wanted:
        domain = wanted.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = root / domain / "manifest.json"
        if not manifest.exists():
            print(f"{manifest}: no such integration", file=sys.stderr)
            return 1
        data = json.loads(manifest.read_text())
        requirements.update(data.get("requirements", []))
        wanted.update(data.get("dependencies", []))
    print("\n".join(sorted(requirements)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
