"""Aussie Broadband: usage from the MyAussie API behind a session cookie.

Login: ``POST {auth_base_url}/login`` with JSON ``{username, password}`` sets ``myaussie_cookie``
and answers ``{refreshToken, expiresIn}``. Then ``GET {api_base_url}/services`` lists services
(``{"data": [{service_id, type, ...}]}``) and ``GET {api_base_url}/broadband/{id}/usage`` answers
``{usedMb, downloadedMb, uploadedMb, remainingMb (null: unlimited), daysTotal, daysRemaining,
lastUpdated}``. The cookie is kept in a 0600 file in the account directory and reused until it
is refused; then one fresh login, then AuthRequired.

MFA (modelled on the SMS/email flow MyAussie uses for sensitive actions): when the login answer
says ``twoFactorAuth.required``, ``capwatch login`` asks for ``POST {api}/2fa/send
{"method": "sms"|"email"}`` and ``POST {api}/2fa/verify {"token": code}``; polling alone raises
MfaRequired.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

import httpx

from capwatch.analysis.cycles import cycle_from_dates
from capwatch.errors import AuthRequired, BadResponse, ConfigError, MfaRequired, WrongPassword
from capwatch.fsutil import write_atomic
from capwatch.models import Snapshot, as_utc, utcnow
from capwatch.providers._http import json_body, json_text, send
from capwatch.providers._isputil import strip_secrets, to_decimal, to_int, zone
from capwatch.providers.base import Prompter, Provider, ProviderOptions
from capwatch.secrets import Secret, redact, register_secret

log = logging.getLogger(__name__)

SOURCE = "aussie"
MB = 10**6
SESSION_FILE = "aussie-session.json"
COOKIE = "myaussie_cookie"
MFA_HEADER = "x-two-factor-auth-capable-client"
NOT_BROADBAND = frozenset({"PhoneMobile", "VOIP", "Hardware", "Phone", "PhoneFixed"})


class AussieOptions(ProviderOptions):
    """Options of the Aussie Broadband provider."""

    username: str | None = None
    password: Secret | None = None
    service_id: str | None = None
    timezone: str = "Australia/Melbourne"
    mfa_method: Literal["sms", "email"] = "sms"
    auth_base_url: str = "https://myaussie-auth.aussiebroadband.com.au"
    api_base_url: str = "https://myaussie-api.aussiebroadband.com.au"


def parse_usage(
    payload: Any, *, tz: ZoneInfo, now: datetime | None = None, secrets: Sequence[str] = ()
) -> Snapshot:
    """Turn a ``/broadband/{id}/usage`` answer into a Snapshot (pure); ``secrets`` are
    stripped from what it keeps."""
    where = "MyAussie usage"
    if not isinstance(payload, Mapping):
        raise BadResponse(f"{where}: expected a JSON object", payload=payload)
    if payload.get("usedMb") is None:
        raise BadResponse(f"{where}: usedMb missing", payload=dict(payload))
    used = _mb(payload["usedMb"], f"{where}.usedMb")
    remaining = payload.get("remainingMb")
    if used == 0 and remaining is None and payload.get("lastUpdated") is None:
        # Real: MyAussie's answer while it has no figure (all zero, nothing updated); stored, it
        # would read as an unlimited plan with nothing used.
        raise BadResponse(
            f"{where}: no usage figure yet (usedMb 0, remainingMb and lastUpdated null)",
            payload=dict(payload),
        )
    cap = None if remaining is None else used + _mb(remaining, f"{where}.remainingMb", neg=True)
    observed = _last_updated(payload.get("lastUpdated"), tz, where) or (now or utcnow())
    start = end = None
    if payload.get("daysTotal") is not None and payload.get("daysRemaining") is not None:
        total = to_int(payload["daysTotal"], f"{where}.daysTotal")
        left = to_int(payload["daysRemaining"], f"{where}.daysRemaining")
        if total > 0:
            end_day: date = observed.astimezone(tz).date() + timedelta(days=left)
            cycle = cycle_from_dates(
                end_day - timedelta(days=total), end_day - timedelta(days=1), tz
            )
            start, end = cycle.start, cycle.end
    return Snapshot(
        observed_at=observed,
        source=SOURCE,
        used_bytes=used,
        cap_bytes=cap,
        unlimited=cap is None,
        cycle_start=start,
        cycle_end=end,
        units="MB",
        raw=strip_secrets(payload, secrets),
    )


def choose_service(payload: Any, wanted: str | None = None) -> str:
    """Pick the broadband service id from a ``/services`` answer (pure)."""
    data = payload.get("data") if isinstance(payload, Mapping) else payload
    if not isinstance(data, list):
        raise BadResponse("MyAussie services: no 'data' list", payload=payload)
    ids = [
        str(s.get("service_id"))
        for s in data
        if isinstance(s, Mapping)
        and s.get("service_id") is not None
        and s.get("type") not in NOT_BROADBAND
    ]
    if wanted is not None:
        if wanted not in ids:
            raise ConfigError(
                f"aussie.service_id: no broadband service {wanted!r} "
                f"(services: {', '.join(ids) or 'none'})"
            )
        return wanted
    if not ids:
        raise BadResponse("MyAussie services: no broadband service on this account")
    if len(ids) > 1:
        raise ConfigError(
            f"aussie: {len(ids)} broadband services ({', '.join(ids)}): set service_id"
        )
    return ids[0]


def _mb(value: Any, where: str, *, neg: bool = False) -> int:
    number = to_decimal(value, where)
    if number < 0 and not neg:
        raise BadResponse(f"{where}: must not be negative, got {value!r}")
    return int((number * Decimal(MB)).to_integral_value())


def _last_updated(value: Any, tz: ZoneInfo, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadResponse(f"{where}.lastUpdated: expected a timestamp, got {value!r}")
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadResponse(f"{where}.lastUpdated: bad timestamp {value[:40]!r}") from None
    return as_utc(stamp if stamp.tzinfo else stamp.replace(tzinfo=tz))


class AussieProvider(Provider[AussieOptions]):
    """Aussie Broadband usage via MyAussie (cookie session, optional MFA at login)."""

    name: ClassVar[str] = "aussie"
    Options: ClassVar[type[ProviderOptions]] = AussieOptions
    min_interval_s: ClassVar[float] = 900.0
    default_interval_s: ClassVar[float] = 3600.0

    @property
    def session_path(self) -> Path:
        """The 0600 file holding the session cookie."""
        return self.context.account_dir / SESSION_FILE

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Read usage with the saved session; log in again once if it is refused."""
        session = self._load_session()
        fresh = session is None
        if session is None:
            session = await self._login_saved(client)
        try:
            return await self._read(client, session)
        except MfaRequired:
            raise
        except AuthRequired:
            if fresh:
                raise
            log.info("aussie: saved session refused, logging in again")
        session = await self._login_saved(client)
        try:
            return await self._read(client, session)
        except AuthRequired:
            raise AuthRequired("MyAussie refused a fresh session: run `capwatch login`") from None

    async def interactive_login(
        self, client: httpx.AsyncClient, prompter: Prompter, username: str | None = None
    ) -> None:
        """Log in at the terminal (asking for MFA when required) and save the session."""
        username = username or self.options.username or prompter.ask("Aussie Broadband username")
        if self.options.password is not None:
            password = self.options.password.reveal()
        else:
            password = prompter.ask("Aussie Broadband password", secret=True)
            register_secret(password)
        session, mfa = await self._login(client, username, password)
        if mfa:
            session = await self._complete_mfa(client, session, prompter)
        self._save_session(session)
        prompter.tell("Aussie Broadband: logged in, session saved")

    async def _complete_mfa(
        self, client: httpx.AsyncClient, session: dict[str, Any], prompter: Prompter
    ) -> dict[str, Any]:
        method = self.options.mfa_method
        api = self.options.api_base_url.rstrip("/")
        await send(
            client,
            "POST",
            f"{api}/2fa/send",
            json={"method": method},
            headers=self._headers(session),
        )
        prompter.tell(f"Aussie Broadband sent a one-time code by {method}")
        code = prompter.ask("Code").strip()
        response = await send(
            client,
            "POST",
            f"{api}/2fa/verify",
            json={"token": code},
            headers=self._headers(session),
        )
        if response.status_code in (400, 422):
            raise WrongPassword("MyAussie refused the one-time code")
        if response.status_code >= 300:
            raise BadResponse(f"POST /2fa/verify: HTTP {response.status_code}")
        new_cookie = response.cookies.get(COOKIE)
        if new_cookie:
            register_secret(new_cookie)
            session = {**session, "cookie": new_cookie}
        return session

    async def _login_saved(self, client: httpx.AsyncClient) -> dict[str, Any]:
        if not self.options.username or self.options.password is None:
            raise AuthRequired(
                "aussie: no saved session and no username/password in the "
                "config: run `capwatch login`"
            )
        session, mfa = await self._login(
            client, self.options.username, self.options.password.reveal()
        )
        if mfa:
            raise MfaRequired("MyAussie asks for a one-time code: run `capwatch login`")
        self._save_session(session)
        return session

    async def _login(
        self, client: httpx.AsyncClient, username: str, password: str
    ) -> tuple[dict[str, Any], bool]:
        url = f"{self.options.auth_base_url.rstrip('/')}/login"
        headers = {"User-Agent": self.context.user_agent, MFA_HEADER: "true"}
        try:
            response = await send(
                client,
                "POST",
                url,
                json={"username": username, "password": password},
                headers=headers,
            )
        except AuthRequired:
            raise WrongPassword("MyAussie refused the username or password") from None
        if response.status_code == 422:
            raise WrongPassword("MyAussie refused the username or password (HTTP 422)")
        if response.status_code >= 300:
            raise BadResponse(f"POST /login: HTTP {response.status_code}")
        body = json_body(response)
        cookie = response.cookies.get(COOKIE)
        if not cookie or not isinstance(body, Mapping):
            raise BadResponse(
                "POST /login: no session cookie in the answer",
                payload=strip_secrets(body, [password]),
            )
        register_secret(cookie)
        if isinstance(body.get("refreshToken"), str):
            register_secret(body["refreshToken"])
        expires = body.get("expiresIn")
        session = {
            "cookie": cookie,
            "obtained_at": self.context.clock().isoformat(),
            "expires_in": expires if isinstance(expires, int) else None,
        }
        twofa = body.get("twoFactorAuth")
        mfa = isinstance(twofa, Mapping) and bool(twofa.get("required"))
        return session, mfa

    reply_kind: ClassVar[str] = "the MyAussie API's /broadband/{service_id}/usage JSON"

    def parse_reply(self, text: str) -> Snapshot:
        """Read a saved usage answer."""
        tz = zone(self.options.timezone, "aussie.timezone")
        return parse_usage(json_text(text, "MyAussie reply"), tz=tz, now=self.context.clock())

    async def _read(self, client: httpx.AsyncClient, session: dict[str, Any]) -> Snapshot:
        api = self.options.api_base_url.rstrip("/")
        headers = self._headers(session)
        service_id = self.options.service_id or session.get("service_id")
        if not service_id:
            response = await send(
                client, "GET", f"{api}/services", headers=headers, params={"page": 1}
            )
            self._expect_ok(response)
            service_id = choose_service(json_body(response))
            session["service_id"] = service_id
            self._save_session(session)
        response = await send(client, "GET", f"{api}/broadband/{service_id}/usage", headers=headers)
        self._expect_ok(response)
        tz = zone(self.options.timezone, "aussie.timezone")
        password = self.options.password.reveal() if self.options.password is not None else ""
        return parse_usage(
            json_body(response), tz=tz, now=self.context.clock(), secrets=(password,)
        )

    def _headers(self, session: Mapping[str, Any]) -> dict[str, str]:
        return {
            "User-Agent": self.context.user_agent,
            "Accept": "application/json",
            "Cookie": f"{COOKIE}={session['cookie']}",
            MFA_HEADER: "true",
        }

    @staticmethod
    def _expect_ok(response: httpx.Response) -> None:
        if response.status_code >= 300:
            where = f"{response.request.method} {response.request.url.path}"
            if response.status_code == 400 and "not a broadband service" in response.text:
                raise ConfigError(
                    f"aussie.service_id: {where}: MyAussie says this service is not a "
                    "broadband service (pick a broadband one from `capwatch doctor`)"
                )
            raise BadResponse(
                f"{where}: HTTP {response.status_code}", payload=redact(response.text[:2000])
            )

    def _load_session(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.session_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("cookie"), str):
            return None
        register_secret(data["cookie"])
        return data

    def _save_session(self, session: Mapping[str, Any]) -> None:
        write_atomic(self.session_path, json.dumps(dict(session)).encode("utf-8"), mode=0o600)
