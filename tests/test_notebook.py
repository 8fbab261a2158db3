"""examples/tour.ipynb, run in a real Jupyter kernel as a reader would run it: every cell runs,
results show as HTML tables, and the charts come out as pictures."""

import nbclient
import nbformat
from conftest import ROOT


def test_the_tour_notebook_runs_and_shows_tables_and_charts():
    notebook = nbformat.read(ROOT / "examples" / "tour.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3").execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert len(html) >= 4 and all("<table" in h for h in html)
    assert any("1.331" in h and "0.001" in h for h in html)  # the note's two gradients
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # the depth and paths charts
    texts = [o.get("text", "") for o in outputs if o.output_type == "stream"]
    assert any("PathsResult(110 residual blocks" in t for t in texts)


def test_the_probe_notebook_runs_and_shows_the_verdict():
    """examples/probe.ipynb: a model probed in a real kernel, its table, chart and numbers shown."""
    notebook = nbformat.read(ROOT / "examples" / "probe.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3").execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert len(html) >= 2 and all("<table" in h for h in html)
    assert any("float16, the model cast whole" in h and "gradient keeps" in h for h in html)
    assert any("mean-field" in h for h in html)
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 1
    texts = [o.get("text", "") for o in outputs if o.output_type == "stream"]
    assert any("ProbeResult(Sequential, 16 blocks" in t for t in texts)


def test_str_and_print_are_plain_text_once_in_a_kernel():
    """In a Jupyter kernel str(result) is the plain text table (no escape codes, no display
    outputs of its own), and print() under redirect_stdout is captured whole; the HTML shows
    the low-precision verdict that print shows."""
    from nbformat.v4 import new_code_cell, new_notebook

    notebook = new_notebook()
    notebook.cells = [
        new_code_cell(
            "import contextlib, io, skipcalc\n"
            "r = skipcalc.chain([0.1, 0.1, 0.1])\n"
            "s = str(r)\n"
            "buffer = io.StringIO()\n"
            "with contextlib.redirect_stdout(buffer):\n"
            "    print(r)\n"
            "assert s and '\\x1b' not in s and buffer.getvalue() == s + '\\n', (s, buffer.getvalue())\n"
            "'ok'"
        ),
        new_code_cell('skipcalc.precision([3e-3, 2e-5, 4e-8, 1e-9], dtype="float16")'),
        new_code_cell('skipcalc.chain(0.3, layers=48, dtype="float16")'),
    ]
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3").execute()
    first = notebook.cells[0].outputs
    assert [o.output_type for o in first] == ["execute_result"] and "ok" in first[0]["data"]["text/plain"]
    precision_html = notebook.cells[1].outputs[0]["data"]["text/html"]
    chain_html = notebook.cells[2].outputs[0]["data"]["text/html"]
    assert "GradScaler" in precision_html and "loss scale" in precision_html.lower()
    assert "lost" in chain_html.lower()
