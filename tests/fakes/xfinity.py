"""A local fake Xfinity: sign-in pages with the real form ids, an OAuth-like redirect chain,
an MFA step, Akamai "Access Denied" and security-check modes, and usage in both shapes.

One server plays every host (login, customer, GraphQL gateway) on 127.0.0.1:

    GET  /                      customer home; without a session -> 302 /login?continue=...
    GET  /login                 step 1: form[name=signin] #user, #sign_in, flowStep=username
    POST /login                 username -> step 2 (#passwd, rm); password -> MFA / redirect
    GET  /oauth/authorize       needs the login cookie; 302 /oauth/callback?code=...
    GET  /oauth/callback        sets the customer session cookie; 302 /
    GET  /apis/csp/account/me/services/internet/usage?filter=internet   usage JSON (cookie)
    POST /galileo/graphql       InternetDataUsage (bearer token)

Standalone: ``python -m tests.fakes.xfinity --port N [--username U --password P --mfa]``.
"""

from __future__ import annotations

import argparse
import calendar
import html
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import parse_qs, quote, urlencode
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

TEMPLATES = Path(__file__).parent / "xfinity_templates"
SESSION_COOKIE = "cw_fake_sess"
LOGIN_COOKIE = "cw_fake_login"


@dataclass
class FakeXfinityState:
    """What the fake knows and how it misbehaves; tests flip the flags."""

    username: str = "jane@example.com"
    password: str = "correct horse battery"
    mfa: bool = False
    mfa_code: str = "246810"
    access_denied: bool = False  # Akamai block on every page
    security_check: bool = False  # interstitial after the password
    unlimited_404: bool = False
    html_usage: bool = False  # the usage API answers with the sign-in page (200)
    expired_style: str = "401"  # "401" | "redirect"
    login_style: str = "two-step"  # "single": the old one-page form (#user and #passwd)
    simulate_user: bool = False  # pages fill and submit themselves, as a person would
    tz: str = "America/New_York"
    home_gb: float = 585.0
    cap_gb: int = 1229
    policy: str = "limited"  # "unlimited": a plan without a cap that still meters
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    publish_lag_days: int = 0  # the new month appears this many days after it starts
    sessions: dict[str, bool] = field(default_factory=dict)  # cookie -> remember-me
    tokens: set[str] = field(default_factory=set)
    logins: dict[str, bool] = field(default_factory=dict)  # login cookie -> rm
    codes: dict[str, bool] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    usage_paths: list[str] = field(default_factory=list)

    def expire_all(self) -> None:
        """Forget every session and token (the server-side session expired)."""
        self.sessions.clear()
        self.tokens.clear()

    def months(self, today: date | None = None) -> list[tuple[date, date, float]]:
        """Two months: last month (full) and the current one, oldest first (as of the clock,
        less ``publish_lag_days``: right after a rollover the newest is the closed month)."""
        lagged = self.clock() - timedelta(days=self.publish_lag_days)
        today = today or lagged.astimezone(ZoneInfo(self.tz)).date()
        start = today.replace(day=1)
        end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        prev_end = date.fromordinal(start.toordinal() - 1)
        prev_start = prev_end.replace(day=1)
        return [(prev_start, prev_end, 1001.0), (start, end, self.home_gb)]


def _render(name: str, **values: str) -> str:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    return Template(text).substitute(**values)


def usage_json(state: FakeXfinityState) -> dict[str, Any]:
    """The customer API's usage document for the fake's months."""
    months = []
    for start, end, used in state.months():
        months.append(
            {
                "policyName": "1.2 Terabyte Data Plan",
                "startDate": start.strftime("%m/%d/%Y"),
                "endDate": end.strftime("%m/%d/%Y"),
                "homeUsage": used,
                "wifiUsage": 0,
                "totalUsage": used,
                "allowableUsage": state.cap_gb,
                "unitOfMeasure": "GB",
                "displayUsage": True,
                "devices": [{"id": "AA:BB:1A:B2:C3:4D", "usage": used}],
                "additionalBlocksUsed": 0,
                "additionalCostPerBlock": 10,
                "additionalUnitsPerBlock": 50,
                "overageCharges": 0,
                "maximumOverageCharge": 100,
                "policy": state.policy,
            }
        )
    return {
        "accountNumber": "8499000000000000",
        "courtesyUsed": 0,
        "courtesyRemaining": 1,
        "courtesyAllowed": 1,
        "inPaidOverage": False,
        "displayUsage": True,
        "usageMonths": months,
    }


def usage_graphql(state: FakeXfinityState) -> dict[str, Any]:
    """The GraphQL answer for the same months, newest first, caps in TB."""
    monthly = [
        {
            "policy": state.policy,
            "month": start.month,
            "year": start.year,
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "daysRemaining": 0,
            "currentUsage": {"value": used, "unit": "GB"},
            "allowableUsage": {"value": round(state.cap_gb / 1000, 2), "unit": "TB"},  # as real
            "overage": 0,
            "overageCharge": 0,
            "maximumOverageCharge": 100,
            "courtesyCredit": False,
        }
        for start, end, used in reversed(state.months())
    ]
    usage = {
        "inPaidOverage": False,
        "courtesy": {"totalAllowableCourtesy": 1, "usedCourtesy": 0, "remainingCourtesy": 1},
        "monthlyUsage": monthly,
    }
    return {"data": {"accountByServiceAccountId": {"internet": {"usage": usage}}}}


def _denied() -> HTMLResponse:
    return HTMLResponse(_render("access_denied.html", ref=secrets.token_hex(4)), status_code=403)


def _autofill(state: FakeXfinityState | None, step: str) -> str:
    """A script that types and submits like a person (for the manual-mode test)."""
    if state is None or not state.simulate_user:
        return ""
    field_id, value = {
        "username": ("user", state.username),
        "password": ("passwd", state.password),
    }.get(step, ("verificationCode", state.mfa_code))
    return (
        "<script>setTimeout(function () {"
        f"document.getElementById({json.dumps(field_id)}).value = {json.dumps(value)};"
        "var rm = document.getElementById('remember_me'); if (rm) { rm.checked = true; }"
        "document.forms.signin.submit();}, 200);</script>"
    )


def _form(
    step: str,
    *,
    user: str = "",
    error: str = "",
    cont: str = "/oauth/authorize",
    state: FakeXfinityState | None = None,
) -> str:
    name = {
        "username": "login_username.html",
        "password": "login_password.html",
        "single": "login_single.html",
    }.get(step, "login_mfa.html")
    return _render(
        name,
        user=html.escape(user, quote=True),
        error=html.escape(error),
        cont=html.escape(cont, quote=True),
        req=secrets.token_hex(8),
        autofill=_autofill(state, step),
    )


class _Handlers:
    """The fake's request handlers over one state."""

    def __init__(self, state: FakeXfinityState) -> None:
        self.state = state

    async def home(self, request: Request) -> Response:
        """Customer home: the dashboard (calls GraphQL with a bearer token) or a redirect."""
        self.state.hits.append("GET /")
        if self.state.access_denied:
            return _denied()
        if request.cookies.get(SESSION_COOKIE) not in self.state.sessions:
            authorize = "/oauth/authorize?" + urlencode(
                {"client_id": "capwatch-fake", "redirect_uri": "/oauth/callback", "state": "home"}
            )
            return RedirectResponse("/login?s=oauth&continue=" + quote(authorize, safe=""), 302)
        token = secrets.token_urlsafe(24)
        self.state.tokens.add(token)
        return HTMLResponse(_render("home.html", token=token))

    async def login_page(self, request: Request) -> Response:
        """Step one of the sign-in form."""
        self.state.hits.append("GET /login")
        if self.state.access_denied:
            return _denied()
        cont = request.query_params.get("continue", "/oauth/authorize")
        first = "single" if self.state.login_style == "single" else "username"
        return HTMLResponse(_form(first, cont=cont, state=self.state))

    async def login_post(self, request: Request) -> Response:
        """The form's steps: username, password, verification."""
        body = (await request.body()).decode("utf-8")
        form = {k: v[-1] for k, v in parse_qs(body).items()}
        step = form.get("flowStep", "")
        if not step and "passwd" in form:  # the old one-page form posts no flowStep
            step = "password"
        self.state.hits.append(f"POST /login {step}")
        if self.state.access_denied:
            return _denied()
        user, cont = form.get("user", ""), form.get("continue", "/oauth/authorize")
        if step == "username":
            return HTMLResponse(_form("password", user=user, cont=cont, state=self.state))
        if step not in ("password", "verification"):
            return HTMLResponse("bad flowStep", status_code=400)
        page = self._challenge(step, form, user, cont)
        if page is not None:
            return HTMLResponse(page)
        login_id = secrets.token_urlsafe(16)
        self.state.logins[login_id] = form.get("rm") in ("1", "on", "true")
        response = RedirectResponse(cont if cont.startswith("/") else "/oauth/authorize", 302)
        response.set_cookie(LOGIN_COOKIE, login_id, httponly=True, path="/")
        return response

    def _challenge(self, step: str, form: dict[str, str], user: str, cont: str) -> str | None:
        """The page that stops a sign-in step, or None when it may go on."""
        state = self.state
        if step == "verification":
            if form.get("verificationCode") == state.mfa_code:
                return None
            msg = "That code didn't work. Check the code and try again."
            return _form("verification", user=user, error=msg, cont=cont)
        if user != state.username or form.get("passwd") != state.password:
            msg = "The Xfinity ID or password you entered was incorrect. Please try again."
            again = "single" if state.login_style == "single" else "password"
            return _form(again, user=user, error=msg, cont=cont)
        if state.security_check:
            return _render("security_check.html")
        if state.mfa:
            return _form("verification", user=user, cont=cont, state=state)
        return None

    async def authorize(self, request: Request) -> Response:
        """OAuth-like authorize: needs the login cookie; redirects with a code."""
        self.state.hits.append("GET /oauth/authorize")
        login_id = request.cookies.get(LOGIN_COOKIE)
        if login_id not in self.state.logins:
            return RedirectResponse("/login?s=oauth", 302)
        code = secrets.token_urlsafe(12)
        self.state.codes[code] = self.state.logins[login_id]
        return RedirectResponse("/oauth/callback?" + urlencode({"code": code}), 302)

    async def callback(self, request: Request) -> Response:
        """Trade the code for the customer session cookie (persistent with remember-me)."""
        self.state.hits.append("GET /oauth/callback")
        code = request.query_params.get("code", "")
        if code not in self.state.codes:
            return HTMLResponse("bad code", status_code=400)
        remember = self.state.codes.pop(code)
        sess = secrets.token_urlsafe(24)
        self.state.sessions[sess] = remember
        response = RedirectResponse("/", 302)
        max_age = 30 * 86400 if remember else None
        response.set_cookie(SESSION_COOKIE, sess, httponly=True, path="/", max_age=max_age)
        return response

    async def usage(self, request: Request) -> Response:
        """The customer API's usage JSON, or one of its failure modes."""
        state = self.state
        state.hits.append("GET usage")
        state.usage_paths.append(request.url.path)
        if state.access_denied:
            return _denied()
        if state.html_usage:
            return HTMLResponse(_form("username"))
        if request.cookies.get(SESSION_COOKIE) not in state.sessions:
            if state.expired_style == "redirect":
                return RedirectResponse("/login?s=oauth", 302)
            # as real (tests/data/real/xfinity/api_401_unauthenticated.json)
            return JSONResponse({"error": "unauthenticated"}, status_code=401)
        if state.unlimited_404:
            msg = {"message": "Plan does not support the usage meter feature."}  # as real
            return JSONResponse(msg, status_code=404)
        return JSONResponse(usage_json(state))

    async def graphql(self, request: Request) -> Response:
        """The GraphQL gateway's InternetDataUsage (bearer token)."""
        self.state.hits.append("POST graphql")
        if self.state.access_denied:
            return _denied()
        auth = request.headers.get("authorization", "")
        body = await request.json()
        if body.get("operationName") != "InternetDataUsage":
            return JSONResponse({"errors": [{"message": "unknown operation"}]}, status_code=400)
        if not auth.startswith("Bearer ") or auth[7:] not in self.state.tokens:
            err = {"message": "Unauthorized", "extensions": {"code": "UNAUTHENTICATED"}}
            return JSONResponse({"errors": [err], "data": None})
        return JSONResponse(usage_graphql(self.state))


def build_app(state: FakeXfinityState) -> Starlette:
    """The fake as an ASGI app over ``state``."""
    h = _Handlers(state)
    routes = [
        Route("/", h.home),
        Route("/login", h.login_page, methods=["GET"]),
        Route("/login", h.login_post, methods=["POST"]),
        Route("/oauth/authorize", h.authorize),
        Route("/oauth/callback", h.callback),
        Route("/apis/csp/account/me/services/internet/usage", h.usage),
        Route("/apis/services/internet/usage", h.usage),  # the path before 2021
        Route("/galileo/graphql", h.graphql, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.fakes.xfinity --port N``: serve until killed."""
    import uvicorn

    from tests.fixtures.common import free_port

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--username", default=FakeXfinityState.username)
    parser.add_argument("--password", default=FakeXfinityState.password)
    parser.add_argument("--mfa", action="store_true")
    parser.add_argument("--access-denied", action="store_true")
    parser.add_argument("--security-check", action="store_true")
    args = parser.parse_args(argv)
    state = FakeXfinityState(
        username=args.username,
        password=args.password,
        mfa=args.mfa,
        access_denied=args.access_denied,
        security_check=args.security_check,
    )
    port = args.port or free_port()
    print(f"http://127.0.0.1:{port}", flush=True)
    uvicorn.run(build_app(state), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
