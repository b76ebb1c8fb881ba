"""Xfinity (Comcast) usage meter: httpx polling with a stored session, browser sign-in.

Modules: :mod:`.parse` and :mod:`.parse_graphql` (pure payload parsers), :mod:`.pages` (page
classification and errors), :mod:`.session` (the 0600 session file, cookie import),
:mod:`.api` (httpx requests and their interpretation), :mod:`.browser` (the sign-in flow), its
drivers :mod:`.cdp_login` over :mod:`.cdp` (the DevTools protocol, the default) and
:mod:`.playwright_driver`, and :mod:`.provider` (the provider class).
"""

from __future__ import annotations

from capwatch.providers.xfinity.provider import XfinityOptions, XfinityProvider

__all__ = ["XfinityOptions", "XfinityProvider"]
