"""The Typer app: help and shell completion, built from the declaration (skipcalc.options).

skipcalc runs every command through its own reader (reader.py) and the API; this app is
asked only to show help (``--help``, ``skipcalc help [COMMAND]``, a bare ``skipcalc``) and to
complete a partial command line for a shell, including option values (formats, loss kinds,
float formats, block kinds, nonlinearities). Each command's signature is generated from its
options, so Typer's help and completion list exactly what options.py declares.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from .. import __version__, options, schema


class Group(TyperGroup):
    """Lists every command's summary whole, wrapped rather than cut at the terminal's width."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _completer(kind: schema.Kind) -> Any:
    """Shell completion of an option's values: the kind's choices that begin as typed."""
    if not kind.choices():
        return None

    def complete(incomplete: str) -> list[str]:
        return [choice for choice in kind.choices() if choice.startswith(incomplete)]

    return complete


def _parameter(spec: schema.Command, opt: schema.Opt) -> inspect.Parameter:
    help = schema.help_text(spec, opt)
    annotation: Any
    if not opt.takes_value and not opt.switch:
        annotation, default = Annotated[bool, typer.Option(opt.name, help=help)], False
    elif opt.switch:
        annotation = Annotated[Optional[bool], typer.Option(f"{opt.name}/{opt.off}", help=help, show_default=False)]
        default = None
    else:
        kind = Optional[list[str]] if opt.many else Optional[str]
        annotation = Annotated[
            kind,
            typer.Option(
                opt.name, metavar=opt.metavar, help=help, show_default=False, autocompletion=_completer(opt.kind)
            ),
        ]
        default = None
    return inspect.Parameter(opt.dest, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def _shown_only(spec: schema.Command) -> Any:
    """The command's function for Typer: its signature, generated from the declaration, is what
    help and completion read. Typer never runs it (see the module's docstring)."""

    def command(**values: Any) -> None:
        raise AssertionError(f"{spec.path} runs through skipcalc.cli.reader, not through click")

    parameters = []
    if spec.arguments is not None:
        argument = typer.Argument(
            metavar=f"{spec.arguments.metavar}...",
            help=spec.arguments.help,
            show_default=False,
            autocompletion=_completer(spec.arguments.kind),
        )
        parameters.append(
            inspect.Parameter(
                "arguments",
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[Optional[list[str]], argument],
            )
        )
    parameters += [_parameter(spec, opt) for opt in spec.options]
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__name__ = spec.name.replace("-", "_")
    return command


def _add(app: typer.Typer, spec: schema.Command) -> None:
    app.command(
        name=spec.name,
        help=f"{spec.summary}\n\n{spec.description}\n\nExample: {spec.example}",
        short_help=spec.summary,
        context_settings={"help_option_names": ["-h", "--help"], "ignore_unknown_options": True},
    )(_shown_only(spec))


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"skipcalc {__version__}\n")
        raise typer.Exit()


def build(only: str | None = None) -> typer.Typer:
    """The app; ``only`` builds just that command (Typer inspects each signature it builds)."""
    app = typer.Typer(
        cls=Group,
        name="skipcalc",
        help=options.TOP_HELP,
        add_completion=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def main(
        version: Annotated[
            Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
        ] = None,
    ) -> None:
        """Exact gradients through plain, residual and other skip-connection networks."""

    for spec in options.COMMANDS.values():
        if only in (None, spec.name):
            _add(app, spec)
    if only in (None, "init"):
        init = typer.Typer(
            cls=Group,
            help=options.INIT_HELP,
            no_args_is_help=True,
            rich_markup_mode=None,
            context_settings={"help_option_names": ["-h", "--help"]},
        )
        for spec in options.INIT_COMMANDS.values():
            _add(init, spec)
        app.add_typer(init, name="init", help=options.INIT_HELP)
    return app


def help_or_completion(args: Sequence[str]) -> None:
    """Typer on ``args``: the completions a shell asks for, or help, --version and the
    completion installers (the console sends nothing else here)."""
    import os

    from .process import refuse

    completing = "_SKIPCALC_COMPLETE" in os.environ
    wanted = args[0] if args and args[0] in (*options.COMMANDS, "init") and not completing else None
    command = typer.main.get_command(build(wanted))
    try:
        code = command.main(list(args), prog_name="skipcalc", standalone_mode=False)
    except typer.Abort:
        raise KeyboardInterrupt from None
    except typer.Exit as stop:
        code = stop.exit_code
    except Exception as error:
        message = getattr(error, "format_message", None)
        if message is None:
            raise
        refuse(" ".join(message().split()).rstrip("."))  # a usage error (an unknown shell, say), one line
    if code:
        raise SystemExit(code)
