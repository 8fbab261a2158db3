"""The options every command declares alike: --format's choices, a flag's kind, the chart
options and --all-rows (used by options.py and probe_options.py)."""

from __future__ import annotations

from .schema import Choice, Flag, Opt, Text

FLAG = Flag()
OUTPUT_FORMATS = ("table", "json", "csv", "value")
MACHINE = ("json", "csv", "value")
FORMAT = Opt(
    "--format",
    Choice(OUTPUT_FORMATS, "an output format", metavar="FORMAT"),
    "table, json, csv or value.",
    default="table",
    keyword="",
)


def _charts(modes: tuple[str, ...] = ()) -> tuple[Opt, ...]:
    return (
        Opt(
            "--plot", FLAG, "Draw the chart under the table.", switch=True, modes=modes, formats=("table",), keyword=""
        ),
        Opt("--save", Text("FILE"), "Also write the chart to FILE (.png, .svg or .pdf).", modes=modes, keyword=""),
        Opt(
            "--title",
            Text("TEXT"),
            "The saved chart's title (else one that names the case).",
            modes=modes,
            requires="--save",
            keyword="",
        ),
        Opt("--force", FLAG, "Let --save replace an existing file.", modes=modes, requires="--save", keyword=""),
    )


_ALL_ROWS = Opt(
    "--all-rows", FLAG, "Print every row of a long table (else the first and last).", formats=("table",), keyword=""
)
