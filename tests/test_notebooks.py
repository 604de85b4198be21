"""The analyst notebooks (notebooks/*.py, jupytext percent) run top to bottom on the demo data.

Each notebook asserts real values of what it shows (grade counts, areas, strategy results …), so a
silently broken cell fails here. The notebooks are built from their ``.py`` files with jupytext and run
with nbclient on a kernel registered for this very Python (a ``python3`` kernelspec written to a temp
``JUPYTER_PATH``, so a user-level kernel pointing elsewhere is never picked up). The park template is
rendered the documented way: papermill with parameters, then nbconvert to HTML without the code.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import jupytext
import nbclient
import nbformat
import papermill
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ANALYST = ["01_quickstart", "02_policy", "03_land_and_cleanup", "04_bring_your_own_data"]
#: one notebook may take this long (the demo assessment is ~5 s; a notebook runs it once)
TIMEOUT_S = 120

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Register this interpreter as the ``python3`` kernel in a private JUPYTER_PATH."""
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter")
    install(kernel_name="python3", display_name="Python 3 (parkland tests)", prefix=str(prefix))
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    mp.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    mp.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] == sys.executable
    yield "python3"
    mp.undo()


def _outputs_text(nb) -> str:
    parts: list[str] = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif out.get("output_type") == "error":
                parts.append("\n".join(out.get("traceback", [])))
    return "\n".join(parts)


def _check_clean(nb, name: str) -> None:
    text = _outputs_text(nb)
    # a Chinese label drawn as boxes means the CJK font was not used
    assert "missing from font" not in text, f"{name}: matplotlib lacks a CJK glyph:\n{text[:2000]}"
    assert "Traceback" not in text, f"{name}: a cell printed a traceback:\n{text[:2000]}"


@pytest.mark.parametrize("name", ANALYST)
def test_notebook_runs(name: str, kernel: str) -> None:
    nb = jupytext.read(NOTEBOOKS / f"{name}.py")
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    n_assert = sum(len(re.findall(r"^\s*assert ", c.source, flags=re.M)) for c in nb.cells if c.cell_type == "code")
    assert n_code >= 8 and n_assert >= 8, f"{name}: {n_code} code cells, {n_assert} asserts"
    t0 = time.perf_counter()
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT_S, kernel_name=kernel,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError on the first failing cell (an assert included)
    took = time.perf_counter() - t0
    _check_clean(nb, name)
    ran = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in ran), f"{name}: not every code cell ran"
    # every notebook shows at least one chart (a PNG output)
    pngs = sum("image/png" in o.get("data", {}) for c in ran for o in c.get("outputs", []))
    assert pngs >= 1, f"{name}: no chart"
    assert took < TIMEOUT_S


def test_notebooks_listed() -> None:
    """Every numbered notebook in notebooks/ is run by this module (a new one must be added above)."""
    found = sorted(p.stem for p in NOTEBOOKS.glob("[0-9]*.py"))
    assert found == ANALYST
    assert (NOTEBOOKS / "park_template.py").is_file()


def test_park_template_renders_html(kernel: str, tmp_path: Path) -> None:
    """The documented call: jupytext → papermill with parameters → nbconvert --to html --no-input."""
    from nbconvert import HTMLExporter

    park = "嘉陵工业园区"
    src = tmp_path / "park_template.ipynb"
    nbformat.write(jupytext.read(NOTEBOOKS / "park_template.py"), src)
    executed = tmp_path / "park_report.ipynb"
    out_dir = tmp_path / "report"
    papermill.execute_notebook(str(src), str(executed), parameters={"park": park, "policy": "sichuan-2022",
                                                                     "out_dir": str(out_dir)},
                               kernel_name=kernel, cwd=str(NOTEBOOKS), progress_bar=False,
                               execution_timeout=TIMEOUT_S)
    nb = nbformat.read(executed, as_version=4)
    _check_clean(nb, "park_template")
    # papermill put the injected parameters after the tagged cell
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert any("parameters" in t for t in tags) and any("injected-parameters" in t for t in tags)

    # the documented offline call: no MathJax / require.js from a CDN (the report is read on intranets)
    body, _ = HTMLExporter(exclude_input=True, mathjax_url="", require_js_url="").from_notebook_node(nb)
    html_path = tmp_path / "park_report.html"
    html_path.write_text(body, encoding="utf-8")
    text = html_path.read_text(encoding="utf-8")
    assert park in text
    assert "亩均" in text
    assert "data:image/png;base64" in text  # the charts are embedded
    assert "import parkland" not in text  # --no-input: no code in the report
    assert not re.findall(r'(?:src|href)="https?://', text), "the report loads something from the network"
    # the template writes the park's own files
    assert (out_dir / "park_map.html").is_file()
    assert (out_dir / "firms.csv").is_file()
