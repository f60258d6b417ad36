"""The quickstart notebook runs top to bottom on the bundled model, so it cannot rot."""
import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

from conftest import ROOT


def test_quickstart_notebook_executes(monkeypatch):
    notebook = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", as_version=4)  # executed in memory only
    monkeypatch.setenv("MPLBACKEND", "Agg")
    ExecutePreprocessor(timeout=600, kernel_name="python3").preprocess(
        notebook, {"metadata": {"path": str(ROOT / "notebooks")}})
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("micro-F1" in str(o.get("data", {}).get("text/markdown", "")) for o in outputs)
