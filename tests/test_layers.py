"""The layout: imports go one way, the core has no Typer or Rich, user text reaches no eval."""

import ast
from pathlib import Path

import skipcalc

PACKAGE = Path(skipcalc.__file__).parent

# Bottom to top: a module may import only modules listed before it.
ORDER = [
    "errors",
    "_kernels",
    "exact",
    "blocks",
    "results",
    "losses",
    "step",
    "formats",
    "chains",
    "depth",
    "paths",
    "jacobian",
    "formula",
    "init",
    "derive",
    "charts",
    "progress",
    "render",
    "options",
    "commands",
    "cli",
    "console",
    "__main__",
]
CORE = ORDER[: ORDER.index("init") + 1]  # the math: below derive, render and the command line


def _imports(name: str) -> set[str]:
    """The skipcalc modules a module imports, anywhere in it (lazy imports included)."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def test_every_module_is_in_the_layer_order():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(ORDER)


def test_imports_go_down_only():
    for i, name in enumerate(ORDER):
        upward = _imports(name) & set(ORDER[i:])
        assert not upward, (name, upward)


def test_errors_imports_nothing_of_skipcalc():
    assert _imports("errors") == set()


def test_the_core_has_no_command_line_and_no_tables():
    for name in CORE:
        source = (PACKAGE / f"{name}.py").read_text()
        assert "import typer" not in source and "from rich" not in source and "import rich" not in source, name


def test_results_hold_no_sympy():
    assert "sympy" not in (PACKAGE / "results.py").read_text()


def test_renderers_are_chosen_by_type_not_by_name():
    source = (PACKAGE / "render.py").read_text()
    assert "__name__)" not in source and "REPORTS: dict[type" in source


def test_no_module_shadows_the_standard_library():
    import sys

    stdlib = set(sys.stdlib_module_names)
    assert not ({p.stem for p in PACKAGE.glob("*.py")} & stdlib)


def test_user_text_never_reaches_eval_exec_sympify_or_parse_expr():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if isinstance(node.func, ast.Name):
                    assert name not in ("eval", "exec", "compile"), (path.name, node.lineno)
                assert name not in ("sympify", "parse_expr", "S"), (path.name, node.lineno)


def test_options_declaration_has_no_typer():
    source = (PACKAGE / "options.py").read_text()
    assert "import typer" not in source and "from typer" not in source


def test_every_non_ascii_character_skipcalc_writes_has_an_ascii_fallback():
    """On a stream that cannot hold them (PYTHONIOENCODING=ascii) they are written by errors.ASCII,
    never as backslash escapes that break a table's columns."""
    from skipcalc.errors import ASCII

    found = {
        ch: path.name
        for path in PACKAGE.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        for ch in node.value
        if not ch.isascii()
    }
    assert found and not {ch: name for ch, name in found.items() if ch not in ASCII}
