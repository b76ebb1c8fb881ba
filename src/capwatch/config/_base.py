"""Shared building blocks of the settings models: the frozen base, byte/port types, zones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from capwatch.units import parse_bytes

_CONFIG = ConfigDict(extra="forbid", frozen=True)


def _bytes(value: Any) -> Any:
    return parse_bytes(value) if isinstance(value, str | int | float) else value


def _port(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= 65535:
        raise ValueError(f"must be between 1 and 65535 (got {value})")
    return value


ByteCount = Annotated[int, BeforeValidator(_bytes), Field(ge=0)]
Port = Annotated[int, BeforeValidator(_port)]
Percent = Annotated[float, Field(gt=0)]


class _Model(BaseModel):
    model_config = _CONFIG


def system_zone() -> ZoneInfo:
    """The system time zone (tzlocal, then /etc/localtime), falling back to UTC."""
    try:
        import tzlocal

        zone = tzlocal.get_localzone()
        if isinstance(zone, ZoneInfo):
            return zone
        return ZoneInfo(str(zone))
    except Exception:
        pass
    try:
        target = Path("/etc/localtime").resolve()
        if "zoneinfo" in target.parts:
            idx = len(target.parts) - 1 - target.parts[::-1].index("zoneinfo")
            return ZoneInfo("/".join(target.parts[idx + 1 :]))
    except Exception:
        pass
    return ZoneInfo("UTC")
