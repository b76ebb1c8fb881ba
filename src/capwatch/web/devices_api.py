"""The "who used it" API: per-device figures and per-day series, and renaming a device.

``GET /api/v1/accounts/{name}/devices/daily`` renders the one devices summary
(:func:`capwatch.service.devices.account_devices`); ``PUT
/api/v1/accounts/{name}/devices/{key}/name`` renames a device (its key, MAC or an address).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from capwatch.errors import ConfigError, InputError
from capwatch.service.devices import view_dict
from capwatch.web.api import CSRF_HEADER, CSRF_PARAMETER, NOT_FOUND
from capwatch.web.schemas import ErrorOut

NameParam = Annotated[str, Path(description="Account name", max_length=100)]


class DeviceDaysOut(BaseModel):
    """One device's figures in the cycle shown."""

    key: str = Field(description="mac:<aa:bb:cc:dd:ee:ff>, or ip:<address> without a MAC.")
    name: str = Field(description="The rename's, the config's, else its MAC or address.")
    vendor: str | None = Field(description="The registrant of the MAC's OUI.")
    mac: str | None
    addresses: list[str] = Field(description="IPv4 and IPv6 addresses folded onto it.")
    cycle_bytes: int
    share: float | None = Field(description="Of the household meter's cycle total (0-1).")
    day_bytes: int = Field(description="On `day`.")
    usual_bytes: int | None = Field(description="Median of its earlier days (28 at most).")
    daily: list[int] = Field(description="Bytes on each of `days`.")
    sources: list[str] = Field(
        description="Where the figures come from: a LAN source (`netflow`) or the ISP "
        "(`xfinity`); a device a LAN source counts shows that source's figures only."
    )
    isp: bool = Field(description="The ISP's own per-device (per-gateway) figure.")
    named: bool = Field(
        description="Named by you (a rename or [device_names]): such devices get a Home "
        "Assistant sensor and a series in Graphite and InfluxDB."
    )
    summed: bool = Field(
        description="In `devices_bytes` and `unaccounted_bytes`; false for an ISP's gateway "
        "while LAN sources count the devices behind it (their bytes are in it)."
    )


class DevicesOut(BaseModel):
    """Who used it: the devices of a cycle and what no device accounts for."""

    account: str
    cycle_start: str
    cycle_end: str
    day: str = Field(description="The day of `day_bytes` (yesterday unless asked).")
    days: list[str] = Field(description="Local days of the cycle up to `day`.")
    meter_bytes: int | None = Field(description="The household meter's cycle total.")
    devices_bytes: int
    unaccounted_bytes: int | None = Field(
        description="The meter minus the devices' sum, never negative."
    )
    unaccounted_daily: list[int] | None
    devices: list[DeviceDaysOut]


class RenameOut(BaseModel):
    """The device as renamed."""

    account: str
    key: str
    name: str | None


class RenameIn(BaseModel):
    """A device's new name (null clears it)."""

    name: str | None = Field(max_length=200)


def _known(request: Request, name: str) -> None:
    try:
        request.app.state.settings.account(name)
    except ConfigError:
        raise HTTPException(status_code=404, detail=f"unknown account {name!r}") from None


def add_device_routes(router: APIRouter) -> None:
    """Add the devices routes to the /api/v1 router."""

    @router.get(
        "/accounts/{name}/devices/daily",
        summary="Who used it: per-device figures and per-day series of a cycle",
        response_model=DevicesOut,
        responses=NOT_FOUND,
    )
    def device_days(
        request: Request,
        name: NameParam,
        cycle: Annotated[
            str | None,
            Query(
                pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                description="YYYY-MM: the cycle "
                "that starts in this month (default: the current one).",
            ),
        ] = None,
        day: Annotated[date | None, Query(description="This day and its cycle.")] = None,
    ) -> dict[str, Any]:
        """Each device's cycle, share of the meter, day, usual day and daily bytes."""
        from capwatch.service.devices import account_devices

        _known(request, name)
        if cycle is not None and day is not None:
            raise RequestValidationError(
                [
                    {
                        "loc": ["query", "day"],
                        "msg": "cycle and day go one at a time",
                        "type": "value_error",
                    }
                ]
            )
        state = request.app.state
        try:
            shown, view = account_devices(
                state.settings, state.store, name, state.clock(), month=cycle, day=day
            )
        except (InputError, OverflowError, ValueError) as exc:
            # The framework's own 422 shape, naming the parameter (a month or day that no
            # cycle can hold, such as year 1 or 9999).
            where = "cycle" if cycle is not None else "day"
            raise RequestValidationError(
                [{"loc": ["query", where], "msg": str(exc), "type": "value_error"}]
            ) from None
        return view_dict(shown, view)

    @router.put(
        "/accounts/{name}/devices/{key}/name",
        summary="Rename a device",
        response_model=RenameOut,
        responses={
            403: {
                "description": f"Missing {CSRF_HEADER}: 1 (CSRF protection)",
                "model": ErrorOut,
            },
            404: {"description": "Unknown account or device", "model": ErrorOut},
        },
        # read by hand below, so a missing header is a 403 (a refusal), not a 422
        openapi_extra={"parameters": [CSRF_PARAMETER]},
    )
    def rename(
        request: Request,
        name: NameParam,
        key: Annotated[str, Path(description="Device key, MAC or address", max_length=64)],
        body: Annotated[RenameIn, Body()],
    ) -> dict[str, Any]:
        """Give a device a name (null clears it); needs ``X-Capwatch-Request: 1``."""
        _known(request, name)
        if request.headers.get(CSRF_HEADER) != "1":
            raise HTTPException(status_code=403, detail="missing X-Capwatch-Request: 1 header")
        new = body.name.strip() if body.name and body.name.strip() else None
        if not request.app.state.store.rename_device(name, key, new):
            raise HTTPException(status_code=404, detail=f"no device {key!r} in {name!r}")
        return {"account": name, "key": key, "name": new}
