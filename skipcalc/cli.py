"""The Typer app, built from the declaration in options.py: help, completion, and every command.

Each command's signature is generated from its options, so Typer's help and shell completion
list exactly what options.py declares. Arguments are read first by options.tokenize (the
reader the fast path uses too, which refuses unknown, repeated and misplaced options by name)
and handed to click in a canonical form (``--name=value``, then ``--`` and the arguments);
the callback turns click's values back into the same parsed form and calls commands.run.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from typing import Annotated, Any, Optional

import typer
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

from . import __version__, options
from .errors import InputError


class Command(TyperCommand):
    spec: options.Command  # set on each command's subclass

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:  # completion parses partial lines itself
            args = canonical(options.tokenize(self.spec, args))
        return super().parse_args(ctx, args)


class Group(TyperGroup):
    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None and not ctx.resilient_parsing:
            prefix = [ctx.info_name] if ctx.parent is not None and ctx.info_name else []
            options.find_command([*prefix, name])  # raises, naming the nearest command
        return super().resolve_command(ctx, args)


def canonical(parsed: options.Parsed) -> list[str]:
    """The parsed arguments as click reads them without ambiguity."""
    args = ["--help"] if parsed.help else []
    for opt in parsed.command.options:
        if opt.dest not in parsed.values:
            continue
        value = parsed.values[opt.dest]
        if opt.kind == "flag":
            args.append(opt.name)
        elif opt.kind == "switch":
            args.append(opt.name if value else opt.off)
        elif opt.kind == "multi":
            args.extend(f"{opt.name}={item}" for item in value)
        else:
            args.append(f"{opt.name}={value}")
    if parsed.arguments:
        args += ["--", *parsed.arguments]
    return args


def parsed_from(spec: options.Command, values: dict[str, Any]) -> options.Parsed:
    """click's values back as options.Parsed: only what the user gave."""
    given: dict[str, Any] = {}
    for opt in spec.options:
        value = values.get(opt.dest)
        if opt.kind == "flag" and value:
            given[opt.dest] = True
        elif opt.kind == "multi" and value:
            given[opt.dest] = list(value)
        elif opt.kind in ("switch", "value") and value is not None:
            given[opt.dest] = value
    return options.Parsed(spec, given, list(values.get("arguments") or []))


def _help(spec: options.Command, opt: options.Opt) -> str:
    default = f" [default: {opt.default}]" if opt.default else ""
    return opt.help + default + options.applies_text(spec, opt)


def _parameter(spec: options.Command, opt: options.Opt) -> inspect.Parameter:
    help = _help(spec, opt)
    annotation: Any
    if opt.kind == "flag":
        annotation, default = Annotated[bool, typer.Option(opt.name, help=help)], False
    elif opt.kind == "switch":
        annotation = Annotated[Optional[bool], typer.Option(f"{opt.name}/{opt.off}", help=help, show_default=False)]
        default = None
    elif opt.kind == "multi":
        annotation = Annotated[
            Optional[list[str]], typer.Option(opt.name, metavar=opt.metavar, help=help, show_default=False)
        ]
        default = None
    else:
        annotation = Annotated[
            Optional[str], typer.Option(opt.name, metavar=opt.metavar, help=help, show_default=False)
        ]
        default = None
    return inspect.Parameter(opt.dest, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def callback(spec: options.Command) -> Any:
    """The command's function, with a signature generated from its declaration."""
    from . import commands

    def command(**values: Any) -> None:
        commands.run(parsed_from(spec, values))

    parameters = []
    if spec.arguments:
        argument = typer.Argument(metavar=f"{spec.arguments}...", help=spec.argument_help, show_default=False)
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


def _add(app: typer.Typer, spec: options.Command) -> None:
    cls = type(f"{spec.name.title().replace('-', '')}Command", (Command,), {"spec": spec})
    app.command(
        name=spec.name,
        help=f"{spec.summary}\n\n{spec.description}",
        short_help=spec.summary,
        cls=cls,
        context_settings={"help_option_names": ["-h", "--help"], "ignore_unknown_options": True},
    )(callback(spec))


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


def run(args: Sequence[str]) -> None:
    """The Typer app on ``args``; usage errors become one line and exit status 2. (Not through
    click's main(), which turns a closed pipe into exit 1: errors.guarded makes it 141.)"""
    from .errors import refuse

    wanted = args[0] if args and args[0] in (*options.COMMANDS, "init") and not _completing() else None
    group = typer.main.get_command(build(wanted))
    group._main_shell_completion({}, "skipcalc", None)  # exits when the shell asks for completions
    try:
        with group.make_context("skipcalc", list(args)) as context:
            group.invoke(context)
    except click.exceptions.NoArgsIsHelpError as error:
        sys.stdout.write(error.ctx.get_help() + "\n")  # a bare `skipcalc`: its help, not an error
    except click.exceptions.ClickException as error:
        message = " ".join(error.format_message().split()).rstrip(".")
        if isinstance(error, click.exceptions.UsageError) and error.ctx is not None:
            message += f" (see {error.ctx.command_path} --help)"
        refuse(message)
    except typer.Abort:
        raise KeyboardInterrupt from None
    except typer.Exit as stop:
        if stop.exit_code:
            raise SystemExit(stop.exit_code) from None


def _completing() -> bool:
    import os

    return "_SKIPCALC_COMPLETE" in os.environ


__all__ = ["InputError", "build", "run"]
