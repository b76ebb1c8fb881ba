"""The provider contract and the one discovery mechanism (entry points).

A provider is built from its validated options and a :class:`ProviderContext`, and returns a
value from :meth:`Provider.fetch`; it never touches the store. Parsing lives in pure functions
of the payload so it can be tested on recorded fixtures.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from capwatch import __version__
from capwatch.errors import ConfigError
from capwatch.models import utcnow

if TYPE_CHECKING:
    import httpx

    from capwatch.models import Snapshot

ENTRY_POINT_GROUP = "capwatch.providers"
USER_AGENT = f"capwatch/{__version__} (+https://pypi.org/project/capwatch/)"


class ProviderOptions(BaseModel):
    """Base of every provider's options model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class ProviderContext:
    """What a provider may know of its surroundings."""

    account: str
    timezone: ZoneInfo
    data_dir: Path
    user_agent: str = USER_AGENT
    clock: Callable[[], datetime] = field(default=utcnow, compare=False)
    """"Now" for the provider (the coordinator's clock), so tests and replays pin the instant."""

    @property
    def account_dir(self) -> Path:
        """A private directory for this account's sessions and diagnostics."""
        return self.data_dir / "accounts" / self.account


OptionsT = TypeVar("OptionsT", bound=ProviderOptions)


class Provider(ABC, Generic[OptionsT]):
    """Base class of every provider: ``class MyProvider(Provider[MyOptions])``.

    ``Options`` names the options model the config is validated against; ``self.options`` is
    an instance of it, typed through the generic parameter.
    """

    name: ClassVar[str]
    kind: ClassVar[Literal["meter", "counter"]] = "meter"
    Options: ClassVar[type[ProviderOptions]] = ProviderOptions
    min_interval_s: ClassVar[float] = 60.0
    default_interval_s: ClassVar[float] = 300.0

    def __init__(self, options: OptionsT, context: ProviderContext) -> None:
        if not isinstance(options, self.Options):
            raise TypeError(
                f"{type(self).__name__} takes {self.Options.__name__}, not {type(options).__name__}"
            )
        self.options: OptionsT = options
        self.context = context

    @abstractmethod
    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Fetch one snapshot; raise a :class:`capwatch.errors.ProviderError` on failure."""

    @property
    def min_interval(self) -> float:
        """Seconds that must pass between two polls of this source (the class's own floor;
        a provider whose endpoint varies may take it from an option)."""
        return self.min_interval_s

    def prerequisites(self) -> list[str]:
        """Return human-readable problems that stop this provider from working (for doctor)."""
        return []

    def interval_hint(self) -> float | None:
        """A shorter poll interval the source turned out to need (a router's 32-bit counters
        at its link rate), learnt from the last fetch; None keeps the default."""
        return None

    reply_kind: ClassVar[str] = ""
    """What :meth:`parse_reply` reads, for ``capwatch check-response`` ("" when nothing)."""
    reply_needs_account: ClassVar[bool] = False
    """:meth:`parse_reply` reads options no default stands for (http_json's paths)."""

    def parse_reply(self, text: str) -> Snapshot:
        """What a poll would make of a saved reply body, offline: the same parser as
        :meth:`fetch`, on text the user saved (``capwatch check-response``)."""
        raise NotImplementedError(f"the {self.name} provider reads no reply a user could save")


@cache
def _entry_points() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def provider_names() -> list[str]:
    """Names of every installed provider, built-in or third-party."""
    return sorted(_entry_points())


def load_provider(name: str) -> type[Provider[Any]]:
    """Return the provider class registered under ``name``."""
    ep = _entry_points().get(name)
    if ep is None:
        known = ", ".join(provider_names()) or "none"
        raise ConfigError(f"unknown provider {name!r} (installed: {known})")
    cls = ep.load()  # type: ignore[attr-defined]
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ConfigError(f"entry point {name!r} is not a capwatch Provider")
    return cls


class Prompter(ABC):
    """How an interactive login asks the user for something (terminal or test)."""

    @abstractmethod
    def ask(self, label: str, *, secret: bool = False) -> str:
        """Ask for one value; ``secret`` hides what is typed."""

    @abstractmethod
    def tell(self, message: str) -> None:
        """Show a message."""
