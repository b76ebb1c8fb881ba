"""Response models of the JSON API, so the OpenAPI spec says exactly what comes back.

They mirror the dicts built by :mod:`capwatch.service.serialize` (bytes as integers, instants as
UTC ISO 8601 strings ending in ``Z``).
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class CycleSpan(BaseModel):
    """A billing cycle: start inclusive, end exclusive."""

    start: str | None
    end: str | None


class ShiftOut(BaseModel):
    """A lasting change of the daily rate that the forecast follows."""

    since: str = Field(description="Local date the new regime began, YYYY-MM-DD.")
    ratio: float = Field(description="The new daily rate over the one before it.")
    before_bytes_per_day: int
    after_bytes_per_day: int
    against: str = Field(
        description='"cycle": this cycle\'s days before the change; "usual": the household\'s '
        "earlier cycles (when the change came in the cycle's first days)."
    )
    text: str = Field(description="The sentence the page and `capwatch status` show.")


class ForecastOut(BaseModel):
    """The forecast of the cycle's final usage with its interval."""

    expected_bytes: int
    low_bytes: int
    high_bytes: int
    level: float = Field(description="Coverage of the low..high interval (0.8 = 80%).")
    method: str
    shift: ShiftOut | None = Field(
        default=None, description="Why the forecast moved: a detected change of regime."
    )


class BusyStretchOut(BaseModel):
    """The stretch of the local day that counted most outside the free window this cycle."""

    from_: str = Field(alias="from", description='Local time it starts, "HH:MM".')
    to: str = Field(description='Local time it ends, "HH:MM" ("24:00": midnight).')
    bytes: int = Field(description="What counted against the allowance in it this cycle.")
    window_from: str = Field(description="When the free window opens, where it would not count.")


class AllowanceOut(BaseModel):
    """Where one allowance of the plan (`[[accounts.allowances]]`) stands this cycle."""

    name: str
    counts: str = Field(description='"all", or only traffic "outside" or "inside" `windows`.')
    windows: str | None = Field(description='The windows as written ("mon-sun 02:00-08:00").')
    at_end: str = Field(description='"overage", "hard-cap" or "slowdown".')
    slowdown_mbps: float | None = Field(description='The speed after a "slowdown" runs out.')
    size_bytes: int = Field(description="base_bytes + rollover_bytes + topup_bytes.")
    base_bytes: int
    rollover_bytes: int = Field(description="Carried over from earlier cycles.")
    topup_bytes: int = Field(description="Top-ups of this cycle (`capwatch topup`).")
    used_bytes: int | None = Field(description="None when the split cannot be known.")
    remaining_bytes: int | None
    projected_bytes: int | None = Field(description="The allowance's own forecast.")
    projected_low_bytes: int | None = Field(description="Low end of the forecast's interval.")
    projected_high_bytes: int | None = Field(description="High end of the forecast's interval.")
    overage_cost: float | None = Field(
        description='The projected charge over an "overage" allowance ([accounts.overage]).'
    )
    split_known: bool = Field(
        description="False for an allowance with windows metered only by an ISP total."
    )
    note: str | None
    busiest_outside: BusyStretchOut | None = Field(
        description="For an allowance counting outside a free window: where its use went "
        "(null when it cannot be known or no stretch stands out)."
    )


class SummaryOut(BaseModel):
    """One account's current cycle: used, cap, forecast, allowance, status."""

    account: str
    status: str = Field(description="ok, stale, auth-required, failing or new.")
    as_of: str | None
    cycle: CycleSpan
    used_bytes: int | None = Field(description="None until the cycle's first figure arrives.")
    cap_bytes: int | None = Field(description="None when unlimited or not known yet.")
    unlimited: bool = Field(description="True when the plan has no cap.")
    remaining_bytes: int | None
    percent: float | None
    forecast: ForecastOut | None
    daily_allowance_bytes: int | None
    days_left: float
    pace: float | None
    overage_cost: float | None
    last_reading_at: str | None
    last_success_at: str | None
    consecutive_failures: int
    last_error: str | None
    note: str | None = Field(
        description="A plain line on the account, e.g. \"new cycle: waiting for the ISP's first "
        'figure".'
    )
    allowances: list[AllowanceOut] = Field(
        description="The plan's allowances; empty for a plan that is its cap alone."
    )


class ReadingOut(BaseModel):
    """One stored reading."""

    account: str
    observed_at: str | None
    cycle_start: str | None
    used_bytes: int
    cap_bytes: int | None
    source: str


class CycleOut(BaseModel):
    """One cycle's aggregate: final (or latest) usage."""

    account: str
    start: str | None
    end: str | None
    used_bytes: int
    cap_bytes: int | None
    readings: int
    first_observed_at: str | None
    last_observed_at: str | None
    source: str
    from_isp_history: bool = Field(description="The figure is the ISP's own total of the cycle.")
    lower_bound: bool = Field(
        description="capwatch missed the cycle's last hours (it was not running): the figure "
        "is at least what was used, not the final total."
    )
    closed: bool = Field(description="True once the cycle has ended.")


class DeviceOut(BaseModel):
    """Usage of one device in the current cycle."""

    device_id: str
    name: str | None
    used_bytes: int


class AlertOut(BaseModel):
    """Latched state of one alert rule level."""

    rule: str
    level: str
    active: bool
    cycle_start: str | None
    fired_at: str | None
    resolved_at: str | None
    message: str | None


class PollEntryOut(BaseModel):
    """One line of the poll log."""

    account: str
    started_at: str | None
    duration_s: float
    outcome: str
    error_class: str | None
    message: str | None
    reading_stored: bool


class PollNowOut(BaseModel):
    """What a poll-now request did."""

    account: str
    outcome: str
    stored: bool
    skipped: bool
    message: str | None
    reading: ReadingOut | None


class Point(BaseModel):
    """One point of a series: instant and bytes."""

    t: str
    bytes: int


class DayBar(BaseModel):
    """Usage of one local day."""

    day: str = Field(description="Local date, YYYY-MM-DD.")
    used_bytes: int
    free_bytes: int | None = Field(
        default=None,
        description="On a plan with a free window: the part of the day's use in the window "
        "(it counted against no allowance).",
    )


class BurndownForecast(BaseModel):
    """Where the cycle is expected to end (at ``at``, the cycle's end)."""

    at: str
    expected_bytes: int
    low_bytes: int
    high_bytes: int
    level: float


class BurndownOut(BaseModel):
    """Everything the account page's burndown chart draws for the current cycle."""

    account: str
    cycle: CycleSpan
    as_of: str
    cap_bytes: int | None
    alarm_percent: float
    used: list[Point] = Field(description="Used bytes over the cycle, downsampled.")
    ideal_remaining: list[Point]
    prorata: list[Point] = Field(description="Pro-rata 100% line in used-space terms.")
    alarm: list[Point] = Field(description="The alarm line (alarm_percent of the pro-rata).")
    forecast: BurndownForecast | None
    daily: list[DayBar]
    allowance: str | None = Field(
        default=None,
        description="The allowance shown (?allowance=): cap_bytes is its size, forecast its own.",
    )


class Health(BaseModel):
    """Liveness answer: degraded when the store cannot be written (a full disk)."""

    status: str = Field(description='"ok", or "degraded" when the store cannot be written.')
    version: str
    store_writable: bool = Field(description="False after a write to the store failed.")
    store_error: str | None = Field(default=None, description="Why the last write failed.")
    last_poll: str | None = Field(
        default=None, description="Outcome of the newest poll of any account (ok, connect, ...)."
    )


class ErrorOut(BaseModel):
    """The body of a refusal (401, 403, 404, 503): one line saying why."""

    detail: str = Field(description="Why the request was refused, in one line.")
