"""How a result is to be written: the output format and the options that shape it."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.exact import SIGNIFICANT, TABLE_DIGITS


@dataclass(frozen=True, eq=False)
class View:
    """The output options of one call (the command line's --format, --digits, --exact, ...)."""

    format: str = "table"
    exact: bool = False
    digits: int | None = None  # None: 12 in tables, 40 elsewhere
    symbolic: bool = False
    latex: bool = False
    plot: bool | None = None  # None: as the result's report chooses (Report.plot)
    save: str | None = None
    title: str | None = None  # the saved chart's
    force: bool = False
    all_rows: bool = False
    line: int | None = None  # --batch: the stdin line this result answers
    header: bool = True  # --batch csv: write the header row
    width: int | None = None  # table width (else $COLUMNS, the terminal's, or 80)
    color: bool | None = None  # None: when stdout is a terminal and NO_COLOR is unset

    @property
    def table_digits(self) -> int:
        return self.digits or TABLE_DIGITS

    @property
    def machine_digits(self) -> int:
        return self.digits or SIGNIFICANT
