"""The Xfinity provider: httpx polling with a stored session; a browser only to sign in."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal

import httpx
from pydantic import Field

from capwatch.diagnostics import save_bundle
from capwatch.errors import AuthRequired, BotBlocked, ProviderError, RateLimited
from capwatch.fsutil import write_atomic
from capwatch.models import Snapshot
from capwatch.providers.base import Prompter, Provider, ProviderOptions
from capwatch.providers.xfinity import api
from capwatch.providers.xfinity.browser import LoginPlan, browser_login, default_browser
from capwatch.providers.xfinity.pages import login_hint
from capwatch.providers.xfinity.session import (
    XfinitySession,
    import_cookie_file,
    load_session,
    save_session,
)
from capwatch.secrets import Secret

BACKOFF_FIRST_S = 3600.0
BACKOFF_MAX_S = 12 * 3600.0


class XfinityOptions(ProviderOptions):
    """Options of the ``xfinity`` provider."""

    username: str | None = Field(
        default=None, description="Xfinity ID, for unattended sign-in and the login prompt."
    )
    password: Secret | None = Field(
        default=None, description="Xfinity password (a secret), for unattended sign-in."
    )
    login_base_url: str = Field(default="https://login.xfinity.com", description="Sign-in host.")
    customer_base_url: str = Field(
        default="https://customer.xfinity.com", description="Customer API host."
    )
    graphql_url: str = Field(
        default="https://gw.api.dh.comcast.com/galileo/graphql",
        description="GraphQL gateway for the InternetDataUsage operation.",
    )
    usage_path: str = Field(
        default=api.USAGE_PATH,
        description="The usage JSON's path on customer_base_url (or a whole URL): "
        "Xfinity has moved it before; docs/providers/xfinity.md lists those seen.",
    )
    api_shape: Literal["auto", "json", "graphql"] = Field(
        default="auto",
        description='"json" (customer API), "graphql", or "auto" (JSON with customer cookies, '
        "else GraphQL with the bearer token).",
    )
    session_file: Path | None = Field(
        default=None,
        description="Where the session is kept (0600); default xfinity-session.json in the "
        "account's data dir.",
    )
    headless_login: bool = Field(
        default=False,
        description="Sign in unattended (headless Chromium) when the session expires.",
    )
    browser_driver: Literal["cdp", "playwright"] = Field(
        default="cdp",
        description='How capwatch drives Chromium to sign in: "cdp" (the DevTools protocol '
        'from Python, no other process) or "playwright" (Playwright, the `browser` extra: '
        "its Node driver adds about 125 MiB while signing in).",
    )
    browser_path: str | None = Field(
        default=None,
        description="The Chromium binary the sign-in runs. Default: Debian's "
        "/usr/bin/chromium-headless-shell for a headless sign-in when it is installed (about "
        "a third less memory), else /usr/bin/chromium (a manual sign-in always uses it).",
    )
    diagnostics_keep: int = Field(
        default=20, ge=1, le=1000, description="How many failure bundles to keep."
    )
    login_timeout_s: float = Field(
        default=90.0, gt=0, le=3600, description="How long one browser sign-in may take."
    )


class XfinityProvider(Provider[XfinityOptions]):
    """Xfinity (Comcast) usage meter, read from the customer API or the GraphQL gateway."""

    name: ClassVar[str] = "xfinity"
    kind: ClassVar[Literal["meter", "counter"]] = "meter"
    Options: ClassVar[type[ProviderOptions]] = XfinityOptions
    min_interval_s: ClassVar[float] = 900.0
    default_interval_s: ClassVar[float] = 3600.0

    @property
    def session_path(self) -> Path:
        """Where the session (cookies, token) lives: 0600, in the account's data dir."""
        return self.options.session_file or self.context.account_dir / "xfinity-session.json"

    @property
    def diagnostics_dir(self) -> Path:
        """Where failure bundles go."""
        return self.context.account_dir / "diagnostics"

    @property
    def _backoff_path(self) -> Path:
        return self.context.account_dir / "xfinity-backoff.json"

    def prerequisites(self) -> list[str]:
        """Problems that stop polling: no session yet, no browser for unattended login."""
        problems = []
        if not self.session_path.exists():
            problems.append(f"no Xfinity session yet: {login_hint(self.context.account)}")
        browser = self.options.browser_path or default_browser(headless=True)
        if self.options.headless_login and not Path(browser).exists():
            problems.append(f"headless_login needs Chromium at {browser}")
        return problems

    # --- polling ------------------------------------------------------------------------

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Read usage with the stored session; renew it unattended when allowed."""
        self._check_backoff()
        fresh = False
        try:
            session = load_session(self.session_path, account=self.context.account)
        except AuthRequired:
            if not self._can_login_unattended():
                raise
            session, fresh = await self._login_unattended(), True
        try:
            return await self._fetch_with(client, session)
        except BotBlocked:
            raise
        except AuthRequired:
            if fresh or not self._can_login_unattended():
                raise
        session = await self._login_unattended()
        return await self._fetch_with(client, session)

    reply_kind: ClassVar[str] = "Xfinity's usage JSON, a GraphQL reply, or a page"

    def parse_reply(self, text: str) -> Snapshot:
        """Read a saved reply: the usage JSON or a GraphQL reply (told apart by its
        ``data`` member), or an HTML page (a sign-in page, a bot check), as a poll would."""
        import json

        shape = "json"
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and ("data" in payload or "errors" in payload):
            shape = "graphql"
        exchange = api.Exchange(
            shape=shape,
            method="GET",
            url_path="(saved reply)",
            status=200,
            location=None,
            content_type="application/json",
            text=text,
        )
        return api.interpret(
            exchange,
            account=self.context.account,
            tz=self.context.timezone,
            observed_at=self.context.clock(),
        )

    def _now(self) -> float:
        """The injected clock's now as a Unix time (cookie expiries are Unix times)."""
        return self.context.clock().timestamp()

    def _usage_url(self) -> str:
        return api.usage_url(self.options.customer_base_url, self.options.usage_path)

    def _shape(self, session: XfinitySession) -> str:
        if self.options.api_shape != "auto":
            return self.options.api_shape
        if session.has_cookies_for(self._usage_url(), now=self._now()):
            return "json"
        return "graphql" if session.bearer_token else "json"

    async def _fetch_with(self, client: httpx.AsyncClient, session: XfinitySession) -> Snapshot:
        shape = self._shape(session)
        snapshot = await self._fetch_shape(client, session, shape)
        if (
            snapshot.unlimited
            and snapshot.used_bytes is None
            and shape == "json"
            and self.options.api_shape == "auto"
            and session.bearer_token
        ):
            # the customer API has no meter for this plan; GraphQL still reports usage
            snapshot = await self._fetch_shape(client, session, "graphql")
        return snapshot

    async def _fetch_shape(
        self, client: httpx.AsyncClient, session: XfinitySession, shape: str
    ) -> Snapshot:
        ex = await api.get_usage(
            client,
            session,
            shape=shape,
            customer_base_url=self.options.customer_base_url,
            graphql_url=self.options.graphql_url,
            user_agent=self.context.user_agent,
            usage_path=self.options.usage_path,
            now=self._now(),
        )
        try:
            snapshot = api.interpret(
                ex,
                account=self.context.account,
                tz=self.context.timezone,
                observed_at=self.context.clock(),
            )
        except BotBlocked as exc:
            self._bundle(ex, exc)
            raise self._start_backoff(exc) from None
        except ProviderError as exc:
            self._bundle(ex, exc)
            raise
        self._clear_backoff()
        if ex.response is not None:
            renewed = session.merged(ex.response, now=self._now())
            if renewed is not session:
                save_session(self.session_path, renewed)
        return snapshot

    def _bundle(self, ex: api.Exchange, exc: BaseException) -> None:
        save_bundle(
            self.diagnostics_dir,
            account=self.context.account,
            provider=self.name,
            error=exc,
            url_path=ex.url_path,
            status=ex.status,
            html=ex.text,
            screenshot=None,
            keep=self.options.diagnostics_keep,
        )

    # --- bot-block backoff ----------------------------------------------------------------

    def _read_backoff(self) -> tuple[datetime | None, float]:
        try:
            doc = json.loads(self._backoff_path.read_text(encoding="utf-8"))
            return datetime.fromisoformat(doc["until"]), float(doc["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return None, 0.0

    def _check_backoff(self) -> None:
        until, _ = self._read_backoff()
        now = self.context.clock()
        if until is not None and until > now:
            wait = (until - now).total_seconds()
            raise RateLimited(
                f"xfinity: backing off after a bot block until {until:%Y-%m-%d %H:%M} UTC",
                retry_after=wait,
            )

    def _start_backoff(self, exc: BotBlocked) -> BotBlocked:
        _, last = self._read_backoff()
        seconds = min(max(last * 2, BACKOFF_FIRST_S), BACKOFF_MAX_S)
        until = self.context.clock() + timedelta(seconds=seconds)
        doc = {"until": until.isoformat(), "seconds": seconds}
        write_atomic(self._backoff_path, json.dumps(doc).encode("utf-8"))
        return type(exc)(f"{exc} (next try after {seconds / 3600:g} h)")

    def _clear_backoff(self) -> None:
        self._backoff_path.unlink(missing_ok=True)

    # --- signing in ---------------------------------------------------------------------

    def _can_login_unattended(self) -> bool:
        return bool(self.options.headless_login and self.options.username and self.options.password)

    def _plan(self, mode: Literal["manual", "prompted", "unattended"]) -> LoginPlan:
        hosts = tuple(
            h
            for h in {
                httpx.URL(self.options.login_base_url).host,
                httpx.URL(self.options.customer_base_url).host,
                httpx.URL(self.options.graphql_url).host,
            }
            if h
        )
        return LoginPlan(
            mode=mode,
            account=self.context.account,
            start_url=self.options.customer_base_url.rstrip("/") + "/",
            customer_base_url=self.options.customer_base_url,
            hosts=hosts,
            browser_path=self.options.browser_path,
            diagnostics_dir=self.diagnostics_dir,
            diagnostics_keep=self.options.diagnostics_keep,
            username=self.options.username,
            timeout_s=self.options.login_timeout_s,
            driver=self.options.browser_driver,
        )

    async def _login_unattended(self) -> XfinitySession:
        plan = self._plan("unattended")
        assert self.options.password is not None
        plan.password = self.options.password.reveal()
        try:
            session = await browser_login(plan)
        except BotBlocked as exc:
            raise self._start_backoff(exc) from None
        save_session(self.session_path, session)
        return session

    async def interactive_login(
        self,
        client: httpx.AsyncClient,
        prompter: Prompter,
        *,
        headless: bool | None = None,
        username: str | None = None,
    ) -> Path:
        """Sign in in a real browser: a window where a display exists, else terminal prompts."""
        import os

        if headless is None:
            headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        plan = self._plan("prompted" if headless else "manual")
        plan.prompter = prompter
        plan.username = username or self.options.username
        if self.options.password is not None and plan.username == self.options.username:
            plan.password = self.options.password.reveal()
        if plan.mode == "manual":
            plan.timeout_s = max(plan.timeout_s, 600.0)
            prompter.tell("Sign in to Xfinity in the browser window (MFA and captchas included).")
        session = await browser_login(plan)
        save_session(self.session_path, session)
        self._clear_backoff()
        return self.session_path

    def import_session(self, cookie_file: Path) -> Path:
        """Keep the Xfinity cookies of a file exported from the user's own browser."""
        hosts = [
            httpx.URL(u).host
            for u in (
                self.options.customer_base_url,
                self.options.login_base_url,
                self.options.graphql_url,
            )
        ]
        session = import_cookie_file(cookie_file, hosts=hosts, now=self._now())
        save_session(self.session_path, session)
        self._clear_backoff()
        return self.session_path
