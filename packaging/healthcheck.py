#!/usr/bin/env python3
"""The container's HEALTHCHECK: GET /healthz on the address and port `capwatch serve` listens on.

The port is read the way `capwatch serve` reads it (the config file, then CAPWATCH_* variables,
then the defaults), so `CAPWATCH_WEB__PORT=9000` or `[web] port = 9000` moves the check too.
Exit status 0 when /healthz answers 200, 1 otherwise, with one line saying why.
"""

from __future__ import annotations

import sys

TIMEOUT_S = 4.0
# A wildcard listen address is checked on the matching loopback address.
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


def health_url(host: str, port: int) -> str:
    """The /healthz URL for a server listening on ``host:port``."""
    target = _WILDCARDS.get(host, host)
    if ":" in target:
        target = f"[{target}]"
    return f"http://{target}:{port}/healthz"


def main() -> int:
    """Check /healthz once; return the exit status."""
    import httpx

    from capwatch.config import load_settings
    from capwatch.errors import ConfigError

    try:
        web = load_settings().web
    except ConfigError as exc:
        print(f"unhealthy: {exc}")
        return 1
    url = health_url(web.host, web.port)
    try:
        status = httpx.get(url, timeout=TIMEOUT_S).status_code
    except httpx.HTTPError as exc:
        print(f"unhealthy: {url}: {type(exc).__name__}")
        return 1
    print(f"{'healthy' if status == 200 else 'unhealthy'}: {url}: HTTP {status}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
