"""Per-account settings: provider and options, cap, cycle, alerts, overage."""

from __future__ import annotations

import re
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from capwatch.config._base import ByteCount, Percent, _Model, system_zone
from capwatch.config._errors import SECRET_KEYS, LocatedError, describe_error, format_loc
from capwatch.config.plan import AllowanceSettings, check_allowances
from capwatch.errors import ConfigError
from capwatch.providers import base as provider_base
from capwatch.secrets import LITERAL_MASK
from capwatch.units import TB, parse_bytes, parse_duration

COUNTER_DEFAULT_CAP = TB
DEFAULT_POLL_INTERVAL_S = 60.0


class CycleSettings(_Model):
    """When the billing cycle starts and in which time zone."""

    start_day: int | None = Field(
        default=None,
        description='Day of the month the cycle starts (1..31); omit or "calendar" for the 1st. '
        "Days past a short month's end clamp to its last day.",
    )
    timezone: str = Field(
        default="local",
        description='IANA time zone of the cycle boundaries, e.g. "America/New_York"; '
        '"local" is the system zone.',
    )

    @field_validator("start_day", mode="before")
    @classmethod
    def _start_day(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() == "calendar"):
            return None
        if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= 31:
            raise ValueError(f"must be between 1 and 31 (got {value})")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        if value == "local":
            return value
        try:
            ZoneInfo(value)
        except Exception:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name or 'local')") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The cycle's time zone as a ZoneInfo."""
        return system_zone() if self.timezone == "local" else ZoneInfo(self.timezone)


class AlertSettings(_Model):
    """Thresholds for alerts."""

    used_percent: list[Percent] = Field(
        default_factory=lambda: [75.0, 90.0, 100.0],
        description="Alert when usage reaches each of these percentages of the cap (and of "
        "each of the plan's allowances).",
    )
    projected_percent: list[Percent] = Field(
        default_factory=lambda: [90.0],
        description="Alert when the forecast for the cycle's end reaches these percentages "
        "(of the cap, and of each allowance).",
    )
    projected_basis: Literal["low", "expected"] = Field(
        default="low",
        description='Forecast used for projected alerts: "low" (conservative) or "expected".',
    )
    allowance_below_bytes: ByteCount | None = Field(
        default=None,
        description='Alert when today\'s remaining daily allowance falls below this ("5 GB").',
    )
    stale_hours: float = Field(
        default=6, gt=0, description="Alert when no successful poll for this many hours."
    )
    disagree_percent: float = Field(
        default=5,
        ge=0,
        description="Alert when a reconciled pair of accounts disagrees by more than this.",
    )
    hysteresis_percent: float = Field(
        default=2, ge=0, description="Usage must drop this far below a level to re-arm it."
    )
    device_spike_factor: float = Field(
        default=4,
        gt=1,
        description="Alert when a device's day exceeds this many times its usual day (the "
        "median of its earlier days) ...",
    )
    device_spike_min_bytes: ByteCount = Field(
        default=10 * 10**9,
        description='... and this much ("10 GB"), once per device per day.',
    )


class OverageSettings(_Model):
    """What going over the cap costs."""

    block_bytes: ByteCount | None = Field(
        default=None, description='Size of one overage block ("50 GB").'
    )
    block_cost: float | None = Field(default=None, ge=0, description="Price of one block.")
    max_charge: float | None = Field(
        default=None, ge=0, description="Most the ISP charges for overage in one cycle."
    )
    courtesy_months: int | None = Field(
        default=None, ge=0, description="Months per year the ISP forgives overage."
    )
    currency: str = Field(default="$", description="Currency symbol for costs.")


_SLUG_HINT = "lowercase letters, digits, '-' and '_', starting with a letter or digit, ≤ 64 chars"


def _strict(info: ValidationInfo) -> bool:
    ctx = info.context
    return bool(isinstance(ctx, dict) and ctx.get("check_providers"))


def _lookup_provider(name: Any, strict: bool) -> type[provider_base.Provider[Any]] | None:
    """The provider class for ``name``, or None when unknown and not ``strict``."""
    if not isinstance(name, str):
        return None
    try:
        return provider_base.load_provider(name)
    except ConfigError as exc:
        if strict:
            raise LocatedError(("provider",), str(exc)) from None
    except ImportError as exc:
        if strict:
            raise LocatedError(
                ("provider",), f"provider {name!r} cannot be loaded ({type(exc).__name__}: {exc})"
            ) from None
    return None


def _validate_options(
    cls: type[provider_base.Provider[Any]], options: Any
) -> provider_base.ProviderOptions:
    try:
        return cls.Options.model_validate(options)
    except ValidationError as exc:
        loc, msg, names_place = describe_error(exc.errors()[0])
        raise LocatedError(("options", *loc), msg, names_place=names_place) from None


def _cap_fields(value: Any) -> dict[str, Any]:
    if isinstance(value, str) and value.strip().lower() in ("provider", "unlimited"):
        return {"cap_bytes": None, "cap_source": value.strip().lower()}
    try:
        return {"cap_bytes": parse_bytes(value), "cap_source": "config"}
    except ValueError as exc:
        detail = str(exc) if "negative" in str(exc) else ""
        raise LocatedError(
            ("cap",),
            detail
            or f'expected a size like "1.2 TB" or "500 GiB", "provider" or "unlimited" '
            f"(got {value!r})",
        ) from None


class AccountSettings(_Model):
    """One metered account: a provider with its options, cap, cycle and alerts."""

    name: str = Field(description=f"Unique short name of the account ({_SLUG_HINT}).")
    provider: str = Field(description="Provider that reads the usage (see `capwatch doctor`).")
    options: dict[str, Any] = Field(
        default_factory=dict,
        repr=False,
        description="Provider options, validated by the provider (see its documentation).",
    )
    cap_bytes: ByteCount | None = Field(
        default=None,
        json_schema_extra={"toml_key": "cap"},
        description='Data cap: "1.2 TB", "1229 GB" or bytes; "provider" reads it from the ISP; '
        '"unlimited" has none. Default: none when `allowances` carry the plan\'s limits (the '
        'headline is then measured against them), else "1 TB" for host/vnstat/snmp counters and '
        '"provider" for an ISP.',
    )
    cap_source: Literal["config", "provider", "unlimited"] = Field(
        default="provider",
        json_schema_extra={"toml_key": None},
        description="Where the cap comes from (set through `cap`).",
    )
    cycle: CycleSettings = Field(
        default_factory=CycleSettings, description="Billing cycle of this account."
    )
    poll_interval_s: float | None = Field(
        default=None,
        gt=0,
        json_schema_extra={"toml_key": "poll_interval"},
        description='How often to poll: "5m", "1h", or seconds. Default: the provider\'s own; '
        "never below the provider's minimum.",
    )
    enabled: bool = Field(default=True, description="Poll this account.")
    max_rate_mbps: float = Field(
        default=10_000.0,
        gt=0,
        description="The fastest the line can carry, in Mbit/s. A meter figure that grew faster "
        "than this since the previous one (or since the cycle began) is impossible: it is kept "
        "in the payload archive for diagnosis, not stored as a reading, and the poll log says so.",
    )
    alerts: AlertSettings = Field(
        default_factory=AlertSettings, description="Alert thresholds of this account."
    )
    overage: OverageSettings | None = Field(
        default=None, description="Overage pricing, for cost forecasts."
    )
    allowances: list[AllowanceSettings] = Field(
        default_factory=list,
        description="The plan's allowances (`[[accounts.allowances]]`), beside `cap`: e.g. a "
        "metered day allowance with a free night window. Without them the plan is `cap` alone.",
    )
    reconcile_with: str | None = Field(
        default=None,
        description="Name of another account measuring the same line (e.g. host vs ISP).",
    )
    _provider_options: provider_base.ProviderOptions | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _from_toml(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        provider_cls = _lookup_provider(data.get("provider"), _strict(info))
        if "cap" in data:
            if "cap_bytes" in data or "cap_source" in data:
                raise LocatedError(("cap",), "give either cap or cap_bytes/cap_source, not both")
            data.update(_cap_fields(data.pop("cap")))
        elif "cap_bytes" not in data and "cap_source" not in data:
            if data.get("allowances"):  # the plan's limits are its allowances, on any meter
                data.update(cap_bytes=None, cap_source="unlimited")
            elif provider_cls is not None and provider_cls.kind == "counter":
                data.update(cap_bytes=COUNTER_DEFAULT_CAP, cap_source="config")
        elif "cap_source" not in data and data.get("cap_bytes") is not None:
            data["cap_source"] = "config"
        if "poll_interval" in data:
            if "poll_interval_s" in data:
                raise LocatedError(("poll_interval",), "give poll_interval or poll_interval_s")
            raw = data.pop("poll_interval")
            try:
                data["poll_interval_s"] = None if raw is None else parse_duration(raw)
            except ValueError as exc:
                raise LocatedError(("poll_interval",), str(exc)) from None
        return data

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:

        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", value):
            raise ValueError(f"must be {_SLUG_HINT} (got {value!r})")
        return value

    @model_validator(mode="after")
    def _check_provider(self, info: ValidationInfo) -> AccountSettings:
        if self.cap_source == "config" and self.cap_bytes is None:
            raise LocatedError(("cap",), 'cap_source "config" needs a cap in bytes')
        check_allowances(self.allowances)
        cls = _lookup_provider(self.provider, _strict(info))
        if cls is None:
            return self
        self._provider_options = _validate_options(cls, self.options)
        floor = float(getattr(self._provider_options, "min_interval_s", cls.min_interval_s))
        if self.poll_interval_s is not None and self.poll_interval_s < floor:
            raise LocatedError(
                ("poll_interval",),
                f"{self.poll_interval_s:g} s is below the {self.provider} provider's minimum "
                f"of {floor:g} s",
            )
        return self

    @field_serializer("options")
    def _dump_options(self, options: dict[str, Any], info: Any) -> dict[str, Any]:
        if self._provider_options is None:
            ctx = info.context if isinstance(info.context, dict) else {}
            if ctx.get("reveal_literal_secrets"):
                return options
            return {
                k: LITERAL_MASK if k in SECRET_KEYS and isinstance(v, str) else v
                for k, v in options.items()
            }
        dumped: dict[str, Any] = self._provider_options.model_dump(
            mode=info.mode, exclude_unset=True, context=info.context
        )
        return dumped

    @property
    def provider_options(self) -> provider_base.ProviderOptions:
        """The provider's validated Options instance (ConfigError if the provider is unknown)."""
        if self._provider_options is None:
            cls = provider_base.load_provider(self.provider)
            try:
                self._provider_options = _validate_options(cls, self.options)
            except LocatedError as exc:
                where = format_loc(("accounts", self.name, *exc.loc))
                raise ConfigError(f"{where}: {exc.message}") from None
        return self._provider_options

    @property
    def provider_class(self) -> type[provider_base.Provider[Any]]:
        """The provider class registered under ``provider``."""
        return provider_base.load_provider(self.provider)

    @property
    def poll_interval(self) -> float:
        """Seconds between polls: the configured interval or the provider's default."""
        if self.poll_interval_s is not None:
            return self.poll_interval_s
        return float(self.provider_class.default_interval_s)
