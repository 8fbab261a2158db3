"""The layout: three layers in three folders, imports going one way, no module past 800 lines,
the core free of the command line and of tables, user text never reaching eval."""

import ast
import subprocess
import sys
from pathlib import Path

import skipcalc

PACKAGE = Path(skipcalc.__file__).parent

# Bottom to top: a module may import only modules listed before it.
ORDER = [
    "core.errors",
    "core.limits",
    "core.kernels",
    "core.exact",
    "core.blocks",
    "core.results",
    "core.losses",
    "core.update",
    "core.float_formats",
    "core.chains",
    "core.depth",
    "core.paths",
    "core.jacobian",
    "core.formula",
    "core.compiled",
    "core.meanfield.activations",
    "core.meanfield.quadrature",
    "core.meanfield.enclosure",
    "core.meanfield.certify",
    "core.meanfield.model",
    "core.meanfield.correlation",
    "core.meanfield.theory",
    "core.meanfield.critical",
    "core.meanfield.simulate",
    "core.meanfield.pairs",
    "core.meanfield.result",
    "core.meanfield.__init__",
    "core.autograd",
    "core.precision",
    "core.elements",
    "core.gradient_files",
    "core.init",
    "probing.estimate",
    "probing.blocks",
    "probing.forward",
    "probing.presets",
    "probing.lowprec",
    "probing.run",
    "probing.record",
    "output.terminal",
    "output.view",
    "output.text",
    "output.report_types",
    "output.charts",
    "output.reports.dtypes",
    "output.reports.meanfield",
    "output.reports.chains",
    "output.reports.probe",
    "output.reports.elements",
    "output.reports.loss",
    "output.reports.depth",
    "output.reports.paths",
    "output.reports.init",
    "output.reports.__init__",
    "output.progress",
    "output.derive",
    "output.machine",
    "output.table",
    "output.render",
    "output.batch",
    "output.notebook",
    "output.display",
    "schema",
    "common_options",
    "probe_options",
    "options",
    "work",
    "api",
    "init",
    "cli.process",
    "cli.reader",
    "cli.commands",
    "cli.app",
    "cli.console",
    "__main__",
]
CORE = [name for name in ORDER if name.startswith("core.")]


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _modules() -> dict[str, Path]:
    return {
        _module(p): p
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" or p.parent.name in ("meanfield", "reports")
    }


def _imports(name: str, top_level_only: bool = False) -> set[str]:
    """The skipcalc modules a module imports (lazy ones too, unless ``top_level_only``)."""
    path = _modules()[name]
    tree = ast.parse(path.read_text())
    package = name.split(".")[:-1]
    found = set()
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level:
            prefix = [*package[: len(package) - node.level + 1], *(node.module.split(".") if node.module else [])]
            found.add(".".join(prefix))
            found.update(".".join([*prefix, alias.name]) for alias in node.names)
    return found & set(_modules())


def test_every_module_is_in_the_layer_order():
    assert set(_modules()) == set(ORDER)


def test_three_layers_in_three_folders():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == {"core", "probing", "output", "cli"}


def test_imports_go_down_only():
    for i, name in enumerate(ORDER):
        upward = _imports(name) & set(ORDER[i:])
        assert not upward, (name, upward)


def test_the_core_imports_neither_output_nor_the_command_line():
    for name in CORE:
        if name == "core.results":
            continue
        assert not {m for m in _imports(name) if not m.startswith("core.")}, name


def test_errors_imports_nothing_of_skipcalc():
    assert _imports("core.errors") == set()


def test_the_core_has_no_command_line_and_no_tables():
    for name in CORE:
        source = _modules()[name].read_text()
        assert "import typer" not in source and "from rich" not in source and "import rich" not in source, name


def test_rich_is_imported_only_by_tables_charts_and_the_progress_display():
    for name, path in _modules().items():
        source = path.read_text()
        if "from rich" in source or "import rich" in source:
            assert name in {"output.table", "output.charts", "output.progress", "output.render"}, name


def test_results_import_no_sympy_rich_or_torch():
    """The result types load without SymPy, Rich or PyTorch (a value line never needs them)."""
    code = "import sys, skipcalc.core.results; print(sorted({'sympy', 'rich', 'torch'} & set(sys.modules)))"
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "[]"


def test_no_module_is_longer_than_800_lines():
    for name, path in _modules().items():
        assert len(path.read_text().splitlines()) <= 800, name


def test_every_result_type_has_its_report():
    """Each Result subclass is in the report registry (keyed by type), so each can be shown."""
    from skipcalc.core import results
    from skipcalc.output.reports import REPORTS

    kinds = {c for c in vars(results).values() if isinstance(c, type) and issubclass(c, results.Result)}
    assert kinds - {results.Result} == set(REPORTS)


def test_no_module_shadows_the_standard_library():
    import sys

    stdlib = set(sys.stdlib_module_names)
    assert not ({p.stem for p in PACKAGE.rglob("*.py")} & stdlib)


def test_user_text_never_reaches_eval_exec_sympify_or_parse_expr():
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if isinstance(node.func, ast.Name):
                    assert name not in ("eval", "exec", "compile"), (path.name, node.lineno)
                assert name not in ("sympify", "parse_expr", "S"), (path.name, node.lineno)


def test_the_declaration_has_no_typer():
    for name in ("options", "schema"):
        source = _modules()[name].read_text()
        assert "import typer" not in source and "from typer" not in source


def test_typer_is_used_through_its_public_names_only():
    source = (PACKAGE / "cli" / "app.py").read_text()
    assert "typer._" not in source and "_main_shell_completion" not in source


def test_every_non_ascii_character_skipcalc_writes_has_an_ascii_fallback():
    """On a stream that cannot hold them (PYTHONIOENCODING=ascii) they are written by process.ASCII,
    never as backslash escapes that break a table's columns."""
    from skipcalc.cli.process import ASCII

    found = {
        ch: path.name
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        for ch in node.value
        if not ch.isascii()
    }
    assert found and not {ch: name for ch, name in found.items() if ch not in ASCII}


def test_the_core_names_arguments_never_flags():
    """A core refusal marks the argument it names (core.errors.arg): the command line writes it as
    its flag, Python as its argument. No string the core builds holds an API option's flag."""
    import re

    from skipcalc import options

    commands = [*options.COMMANDS.values(), *options.INIT_COMMANDS.values()]
    flags = {opt.name for c in commands for opt in c.options if opt.api}
    for name in CORE:
        tree = ast.parse(_modules()[name].read_text())
        docs = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}  # docstrings and comments-as-strings
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                assert not set(re.findall(r"--[a-z][a-z0-9-]*", node.value)) & flags, (name, node.value)
