"""A Netgear LTE router's or hotspot's own usage meter, via eternalegypt (a meter source).

eternalegypt logs in as the web UI does (``GET /model.json`` for ``session.secToken``, then
``POST /Forms/config`` with ``session.password`` and the token) and reads ``model.json``. Its
``wwan.dataUsage.generic`` block is the modem's meter of its billing cycle:
``dataTransferred`` (bytes this cycle), ``lastReset`` (the instant the modem last reset it, Unix
seconds) and ``nextBillingDate`` (the instant it will reset next). Those two instants are the
modem's own cycle and are reported as the snapshot's, as an ISP's dates are; when
``dataLimitValid`` is true, ``billingCycleLimit`` (read as bytes) is the cap.

The modem's own reset: after ``nextBillingDate`` and before the modem has reset (``lastReset``
unchanged), the figure is the closed cycle's final one (stored for that cycle, never for the
new one); once it resets, the new cycle starts from its new ``lastReset``.

eternalegypt is aiohttp-based and runs in the provider's event loop, with its own session
(cookies from an address need aiohttp's ``unsafe`` cookie jar).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, field_validator

from capwatch.errors import BadResponse, CannotConnect, MissingExtra, WrongPassword
from capwatch.models import Snapshot
from capwatch.providers._isputil import to_int
from capwatch.providers.base import Provider, ProviderOptions
from capwatch.secrets import Secret, redact

if TYPE_CHECKING:
    import httpx

SOURCE = "netgear_lte"
WHERE = "netgear_lte model.json wwan.dataUsage.generic"


class NetgearLteOptions(ProviderOptions):
    """Options of the Netgear LTE provider."""

    host: str = "192.168.5.1"
    """The modem's address, with ``:port`` when it is not 80."""
    password: Secret
    timeout_s: float = Field(default=15.0, gt=0)
    count_roaming: bool = True
    """Add ``dataTransferredRoaming`` to the figure."""

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if "/" in value or not value.strip():
            raise ValueError(f"must be a host name or address, not a URL (got {value!r})")
        return value.strip()


def _instant(value: Any, where: str) -> datetime | None:
    seconds = to_int(value, where) if value not in (None, "", "0", 0) else 0
    return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None


def parse_model(data: Any, *, now: datetime, count_roaming: bool = True) -> Snapshot:
    """The modem's cycle figure, cycle and limit from a ``model.json`` (pure)."""
    try:
        generic = data["wwan"]["dataUsage"]["generic"]
    except (KeyError, TypeError):
        raise BadResponse(
            f"{WHERE}: missing (the login was refused, or this model keeps no usage meter)"
        ) from None
    if not isinstance(generic, Mapping) or "dataTransferred" not in generic:
        raise BadResponse(f"{WHERE}: no dataTransferred")
    used = to_int(generic["dataTransferred"], f"{WHERE}.dataTransferred")
    roaming = to_int(generic.get("dataTransferredRoaming") or 0, f"{WHERE}.dataTransferredRoaming")
    start = _instant(generic.get("lastReset"), f"{WHERE}.lastReset")
    end = _instant(generic.get("nextBillingDate"), f"{WHERE}.nextBillingDate")
    if start is not None and end is not None and end <= start:
        raise BadResponse(f"{WHERE}: nextBillingDate is not after lastReset")
    cap = None
    if generic.get("dataLimitValid") is True:
        limit = to_int(generic.get("billingCycleLimit") or 0, f"{WHERE}.billingCycleLimit")
        cap = limit or None
    general = data.get("general") if isinstance(data, Mapping) else None
    model = general.get("model") if isinstance(general, Mapping) else None
    return Snapshot(
        observed_at=now,
        source=SOURCE,
        used_bytes=used + roaming if count_roaming else used,
        cap_bytes=cap,
        cycle_start=start,
        cycle_end=end if start is not None else None,
        units="bytes",
        raw={"model": model, "generic": dict(generic)},
    )


class NetgearLteProvider(Provider[NetgearLteOptions]):
    """Reads a Netgear LTE modem's usage meter of its billing cycle."""

    name: ClassVar[str] = SOURCE
    kind: ClassVar[Literal["meter", "counter"]] = "meter"
    Options: ClassVar[type[ProviderOptions]] = NetgearLteOptions
    default_interval_s: ClassVar[float] = 300.0
    min_interval_s: ClassVar[float] = 60.0

    @classmethod
    def lan_choices(cls, targets: Sequence[str] | None = None) -> list[tuple[dict[str, Any], str]]:
        """For `capwatch init`: the Netgear modems whose ``model.json`` answers a guest (a
        session block, before any login) at ``targets`` (``host[:port]``), else at 192.168.5.1
        (their default) and the gateway."""
        from capwatch.providers._lanprobe import candidates, probe_each

        def ask(client: Any, target: str) -> tuple[dict[str, Any], str] | None:
            doc = client.get(f"http://{target}/model.json", params={"internalapi": "1"}).json()
            if not isinstance(doc, dict) or not isinstance(doc.get("session"), dict):
                return None
            model = (doc.get("general") or {}).get("model")
            what = f"a Netgear LTE modem ({model})" if model else "a Netgear LTE modem"
            return {"host": target}, (
                f"{target}: {what} answers (its usage meter needs the admin password)"
            )

        return probe_each(candidates(targets, ("192.168.5.1",)), ask)

    def prerequisites(self) -> list[str]:
        """Problems that stop this provider: eternalegypt (the extra) missing."""
        import importlib.util

        if importlib.util.find_spec("eternalegypt") is None:
            return [str(MissingExtra("netgear_lte", "eternalegypt"))]
        return []

    async def _model(self) -> Any:
        try:
            import aiohttp
            import eternalegypt
        except ImportError as exc:
            raise MissingExtra("netgear_lte", "eternalegypt") from exc
        # eternalegypt logs the session token and the whole model.json at DEBUG: keep it out
        logging.getLogger("eternalegypt").setLevel(logging.INFO)
        opts = self.options
        where = f"netgear_lte {opts.host}"
        timeout = aiohttp.ClientTimeout(total=opts.timeout_s)
        jar = aiohttp.CookieJar(unsafe=True)  # the modem is an address: keep its cookie
        async with aiohttp.ClientSession(cookie_jar=jar, timeout=timeout) as session:
            modem = eternalegypt.Modem(hostname=opts.host, websession=session)
            try:
                await modem.login(password=opts.password.reveal())
                info = await modem.information()
            except eternalegypt.eternalegypt.Error as exc:
                raise _translate(exc, where) from None
            finally:
                await modem.logout()
        # eternalegypt flattens model.json into lower-case keys; rebuild the generic block
        items: Mapping[str, Any] = info.items
        prefix = "wwan.datausage.generic."
        generic = {k[len(prefix) :]: v for k, v in items.items() if k.startswith(prefix)}
        names = {n.lower(): n for n in _GENERIC_KEYS}
        block = {names.get(k, k): v for k, v in generic.items()}
        return {
            "wwan": {"dataUsage": {"generic": block}},
            "general": {"model": items.get("general.model")},
        }

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Log in, read model.json and return the modem's cycle figure."""
        data = await self._model()
        return parse_model(data, now=self.context.clock(), count_roaming=self.options.count_roaming)


def _translate(exc: Exception, where: str) -> Exception:
    """The error-tree exception for an eternalegypt Error (its text is all it carries)."""
    text = " ".join(redact(str(exc)).split()).split(" for <function", 1)[0][:200]
    if "No token found" in text:
        return BadResponse(f"{where}: model.json is not the modem's JSON (no session token)")
    if "'general'" in text or "'wwan'" in text:
        return WrongPassword(
            f"{where}: model.json after the login is a guest's: the modem refused the password"
        )
    if any(f"'{key}'" in text for key in ("dataUsage", "generic", "dataTransferred")):
        return BadResponse(
            f"{where}: model.json has no wwan.dataUsage.generic.dataTransferred (this model "
            "keeps no usage meter)"
        )
    if "Could not login" in text:
        return CannotConnect(f"{where}: cannot reach the modem ({text})")
    return BadResponse(f"{where}: model.json: {text}")


_GENERIC_KEYS = (
    "dataLimitValid",
    "usageHighWarning",
    "lastSucceeded",
    "billingDay",
    "nextBillingDate",
    "lastSync",
    "billingCycleRemainder",
    "billingCycleLimit",
    "dataTransferred",
    "dataTransferredRoaming",
    "lastReset",
)
