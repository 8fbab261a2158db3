"""`skipcalc --help` and `skipcalc COMMAND --help` as the Typer app prints them on a terminal
of 80 columns or more, kept in help.json so that console.py can print them without
importing Typer (help is read often, and Typer builds every command to list them).

`python -m skipcalc.helptexts` regenerates help.json from the app. A test compares every
text with the app's own, so a changed option fails the tests until it is regenerated.
"""

from __future__ import annotations

import json
import os

WIDE = 80
"""Click wraps help to the terminal, up to 80 columns: from this width on, the text is fixed."""

PATH = os.path.join(os.path.dirname(__file__), "help.json")


def load() -> dict[str, str]:
    """The stored texts; "" is the top level."""
    with open(PATH, encoding="utf-8") as file:
        return json.load(file)


def generate() -> dict[str, str]:
    """Every help text, from the Typer app, at WIDE columns (not through Typer's CliRunner,
    which forces a width of its own)."""
    import contextlib
    import io

    from .cli import app

    names = [""] + [info.name or info.callback.__name__ for info in app.registered_commands]  # type: ignore[union-attr]
    texts = {}
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDE)
    try:
        for name in names:
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
                app([name, "--help"] if name else ["--help"])
            texts[name] = out.getvalue()
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    return texts


if __name__ == "__main__":
    with open(PATH, "w", encoding="utf-8") as out:
        json.dump(generate(), out, indent=1, ensure_ascii=False)
        out.write("\n")
