"""What going over the cap costs: blocks rounded up, capped at the maximum charge.

Xfinity's terms (``additionalUnitsPerBlock`` 50 GB, ``additionalCostPerBlock`` $10,
``maximumOverageCharge`` $100, courtesy months) are the default; other ISPs pass their own
:class:`OverageTerms`, or the :class:`capwatch.models.Overage` their provider reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class OverageTerms:
    """How an ISP charges for use over the cap."""

    bytes_per_block: int = 50 * 10**9
    cost_per_block: float = 10.0
    max_charge: float | None = 100.0
    courtesy_remaining: int = 0


XFINITY = OverageTerms()


@dataclass(frozen=True, slots=True)
class OverageEstimate:
    """The cost of a usage figure, with a note for people."""

    cost: float
    blocks: int
    over_bytes: int
    courtesy: bool
    note: str


def _attr(obj: Any, *names: str) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


def terms_from(source: Any) -> OverageTerms | None:
    """Terms from an :class:`Overage`, :class:`OverageTerms` or settings-like object."""
    if source is None:
        return None
    if isinstance(source, OverageTerms):
        return source
    size = _attr(source, "bytes_per_block", "block_bytes")
    price = _attr(source, "cost_per_block", "block_cost")
    if size is None or price is None:
        return None
    if int(size) <= 0:
        raise ValueError(f"overage: block size must be positive, got {size}")
    return OverageTerms(
        bytes_per_block=int(size),
        cost_per_block=float(price),
        max_charge=_attr(source, "max_charge", "maximum_charge"),
        courtesy_remaining=int(_attr(source, "courtesy_remaining") or 0),
    )


def overage_estimate(used_bytes: int, cap_bytes: int | None, source: Any) -> OverageEstimate | None:
    """Cost, blocks and a note for ``used_bytes``; None when unlimited or terms are unknown."""
    terms = terms_from(source)
    if cap_bytes is None or terms is None:
        return None
    over = max(used_bytes - cap_bytes, 0)
    blocks = math.ceil(over / terms.bytes_per_block)
    cost = blocks * terms.cost_per_block
    if terms.max_charge is not None:
        cost = min(cost, float(terms.max_charge))
    if blocks and terms.courtesy_remaining > 0:
        left = terms.courtesy_remaining
        note = f"courtesy month: no charge ({left} courtesy month{'s' if left != 1 else ''} left)"
        return OverageEstimate(0.0, blocks, over, True, note)
    note = f"{blocks} block{'s' if blocks != 1 else ''} over the cap" if blocks else "under the cap"
    return OverageEstimate(cost, blocks, over, False, note)


def overage_cost(used_bytes: int, cap_bytes: int | None, source: Any) -> float | None:
    """The charge for ``used_bytes`` (projected or used); 0 while courtesy months remain."""
    estimate = overage_estimate(used_bytes, cap_bytes, source)
    return None if estimate is None else estimate.cost
