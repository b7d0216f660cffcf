"""A notebook executed headless and rendered to one self-contained HTML file.

The notebooks read their parameters from the environment in their first cell
(``CRM_DATABASE_URL``, ``REPORT_FROM``, ``REPORT_TO``); here the kernel is started with
those set, so no connection string is ever written into a notebook. The kernel is this
very interpreter (a kernel spec made for the run), never whatever "python3" a user's
Jupyter set-up would find first. Charts are PNG outputs, which the HTML carries inline as
``data:`` URIs; the page loads no script or style from anywhere else, and shows outputs
only (the code stays in the notebook).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from datetime import date
from pathlib import Path

import jinja2
import nbformat

FOLDER = Path(__file__).resolve().parent
NOTEBOOKS = {
    "migration": "migration.ipynb",
    "effectiveness": "effectiveness.ipynb",
    "followup": "followup.ipynb",
}
KERNEL = "crm-analytics"
TIMEOUT = 900

# The lab page without the scripts it would fetch from CDNs (require.js, MathJax, Mermaid):
# a report is read offline, and charts need none of them.
TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def notebook_path(name: str) -> Path:
    """The notebook of a report name (``migration``…), or a path to one."""
    if name in NOTEBOOKS:
        return FOLDER / NOTEBOOKS[name]
    path = Path(name)
    if not path.is_file():
        raise FileNotFoundError(f"no report or notebook {name!r}; reports: {', '.join(NOTEBOOKS)}")
    return path


def parameters(database_url: str | None, start: date | None, end: date | None) -> dict[str, str]:
    """The environment the notebooks read their parameters from."""
    values = {
        "CRM_DATABASE_URL": database_url,
        "REPORT_FROM": start.isoformat() if start else None,
        "REPORT_TO": end.isoformat() if end else None,
    }
    return {k: v for k, v in values.items() if v}


def _kernel_manager(folder: Path):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    spec = folder / KERNEL
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "CRM analytics",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    specs = KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)
    # Local sockets, in the run's own folder: nothing listens on a TCP port.
    return AsyncKernelManager(
        kernel_name=KERNEL, kernel_spec_manager=specs, transport="ipc", ip=str(folder / "kernel")
    )


class ReportFailed(RuntimeError):
    """A cell of the notebook failed; the message names the error, not the traceback."""


def execute(path: Path, env: dict[str, str], timeout: int = TIMEOUT) -> nbformat.NotebookNode:
    """Run every cell of the notebook at ``path`` in a fresh kernel with ``env`` added to
    the environment; a failing cell raises ``ReportFailed``."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    # The kernel imports this very checkout of the package, whatever the install says.
    search = os.pathsep.join(filter(None, (str(FOLDER.parent), os.environ.get("PYTHONPATH"))))
    environment = {
        **os.environ,
        **env,
        "PYTHONPATH": search,
        # Figures drawn by Agg and shown as PNG outputs (the kernel's inline backend).
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        # Jupyter's own path deprecation notice is not the report's business.
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    with tempfile.TemporaryDirectory(prefix="crm-kernel-") as folder:
        client = NotebookClient(
            notebook,
            km=_kernel_manager(Path(folder)),
            timeout=timeout,
            resources={"metadata": {"path": str(path.parent)}},
        )
        with warnings.catch_warnings():
            # Warnings raised inside the kernel show in its outputs; those of the client's
            # machinery (zmq, event loops) are not the report's.
            warnings.simplefilter("ignore")
            try:
                client.execute(env=environment, cwd=str(path.parent), cleanup_kc=True)
            except CellExecutionError as error:
                raise ReportFailed(
                    f"{path.name}: a cell failed with {error.ename}: {error.evalue}"
                ) from error
    return notebook


def to_html(notebook: nbformat.NotebookNode, title: str) -> str:
    """The executed notebook as one HTML page: outputs only, charts inline."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({"report.html.j2": TEMPLATE})],
        template_file="report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    notebook.metadata["title"] = title
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        body, _ = exporter.from_notebook_node(notebook)
    return body


def render(
    name: str,
    out: Path,
    *,
    database_url: str | None = None,
    start: date | None = None,
    end: date | None = None,
    timeout: int = TIMEOUT,
) -> Path:
    """Execute report ``name`` over the period and write it to ``out`` as HTML."""
    path = notebook_path(name)
    notebook = execute(path, parameters(database_url, start, end), timeout)
    period = f"{start.isoformat() if start else '…'} – {end.isoformat() if end else '…'}"
    html = to_html(notebook, f"{path.stem.replace('_', ' ').title()} {period}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
