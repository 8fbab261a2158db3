"""Numbers as each output writes them: the one display rule (skipcalc.core.exact.show) applied
per output, and the cell kinds a report holds beside plain numbers.

- table: a decimal when the value terminates within --digits (12) significant digits; a
  fraction when it does not but p and q have at most 6 digits (1/3, 250/429); else rounded
  and marked ≈. Shares are percentages.
- csv and value: a decimal or scientific notation that awk, jq and float() read (rounded to
  --digits, 40, when it does not terminate); p/q only with --exact.
- json: the exact text (p/q where it is short) - see machine.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..core import kernels
from ..core.exact import SIGNIFICANT, TABLE_DIGITS, TABLE_FRACTION, Number, show
from ..core.results import Earned


@dataclass(frozen=True, eq=False)
class Share:
    """A share of a total: a percentage in tables, the fraction elsewhere."""

    value: Number


@dataclass(frozen=True, eq=False)
class StoredCell:
    """A gradient as a float format holds it, with its status (marked in tables)."""

    value: Fraction | str
    status: str
    lost: bool  # rounded to 0 (from a nonzero gradient), or beyond the largest finite value


def short(value: Number) -> str:
    """A number inside a sentence or a title: 12 digits, p/q when short, ≈ when rounded."""
    shown = show(value, digits=12, fraction=TABLE_FRACTION)
    return shown.text if shown.exact else "≈" + shown.text


def plain_text(value: Any, exact: bool = False, digits: int = SIGNIFICANT) -> str:
    """A cell for csv and value: a decimal or scientific notation (p/q only with ``exact``)."""
    if isinstance(value, (Fraction, Decimal)):
        return show(value, exact=exact, digits=digits, fraction=0).text
    if isinstance(value, (Share, StoredCell)):
        return plain_text(value.value, exact, digits)
    if isinstance(value, Earned):
        return _earned_text(value, digits)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple):  # a vector: [1.1,-2.4]
        return "[" + ",".join(plain_text(v, exact, digits) for v in value) + "]"
    return "" if value is None else str(value)


def _earned_text(value: Earned, digits: int) -> str:
    if value.digits == 0:
        return "0" if value.value == 0 else f"<{value.bound:.1e}"
    return f"{value.value:.{min(digits, value.digits)}g}".replace("e+", "e").replace("e-0", "e-")


def cell_text(value: Any, digits: int = TABLE_DIGITS, exact: bool = False) -> tuple[str, bool]:
    """(text, rounded) for a table cell."""
    if isinstance(value, (Fraction, Decimal)):
        shown = show(value, exact=exact, digits=digits, fraction=TABLE_FRACTION)
        return (shown.text, False) if shown.exact else ("≈" + shown.text, True)
    if isinstance(value, Share):
        return percent_text(value.value, min(digits, 4))
    if isinstance(value, Earned):
        if value.digits == 0:
            return ("0" if value.value == 0 else f"<{value.bound:.1e} (round-off)"), False
        return "≈" + _earned_text(value, min(digits, value.digits)), True
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value) if value.bit_length() < 130 else ""
        if text and len(text) <= 40:
            return text, False
        return "≈" + show(Fraction(value), digits=digits).text, True
    if isinstance(value, tuple):
        return "[" + ", ".join(cell_text(v, digits, exact)[0] for v in value) + "]", False
    if isinstance(value, StoredCell):
        text, rounded = cell_text(value.value, digits, exact)
        mark = " LOST" if value.lost else " (subnormal)" if value.status == "subnormal" else ""
        return text + mark, rounded
    return ("" if value is None else str(value)), False


def percent_text(value: Number, digits: int) -> tuple[str, bool]:
    """A share as a percentage: (text, rounded)."""
    shown = show(
        value * 100 if isinstance(value, Fraction) else kernels.CARRIED.scaleb(value, 2), digits=digits, fraction=0
    )
    return (shown.text + "%", False) if shown.exact else ("≈" + shown.text + "%", True)


def arithmetic(result: Any) -> str:
    """The update as the note writes it, with its numbers: 0.5 - 0.1 * (-5.324) * 1 = 1.0324."""

    def number(x: Any) -> str:
        text = short(x)
        return f"({text})" if text.lstrip("≈").startswith("-") else text

    return (
        f"{number(result.weight)} - {number(result.lr)} * {number(result.grad)} * {number(result.input)} "
        f"= {short(result.new_weight)}"
    )


def chart_number(value: Any) -> str:
    """A value written on a chart: whole if it fits in 4 significant digits, else ≈ and 4."""
    shown = show(value, digits=4, fraction=0)
    return shown.text if shown.exact else "≈" + shown.text
