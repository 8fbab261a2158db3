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
