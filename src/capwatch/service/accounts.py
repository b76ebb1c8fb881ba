"""What the service keeps per account at run time: its provider, cycle rule and interval."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from capwatch.analysis.cycles import CycleRule
from capwatch.models import utcnow
from capwatch.providers.base import Provider, ProviderContext, load_provider

if TYPE_CHECKING:
    from capwatch.config import AccountSettings, Settings


@dataclass(frozen=True)
class AccountRuntime:
    """An account's settings with its live provider instance and cycle rule."""

    account: AccountSettings
    provider: Provider[Any]
    context: ProviderContext
    rule: CycleRule
    interval_s: float


def build_runtime(
    account: AccountSettings, settings: Settings, clock: Callable[[], datetime] = utcnow
) -> AccountRuntime:
    """Instantiate an account's provider and cycle rule from settings (``clock`` is its now)."""
    zone = account.cycle.zone
    cls = load_provider(account.provider)
    context = ProviderContext(
        account=account.name, timezone=zone, data_dir=settings.data_dir, clock=clock
    )
    provider = cls(account.provider_options, context)
    rule = CycleRule(account.cycle.start_day, zone)
    interval = account.poll_interval_s or cls.default_interval_s
    return AccountRuntime(account, provider, context, rule, max(interval, provider.min_interval))
