"""A notebook executed headless and rendered to one self-contained HTML file.

The notebooks read their parameters from the environment in their first cell
(``CRM_DATABASE_URL``, ``REPORT_FROM``, ``REPORT_TO``, ``REPORT_BRANCH``, ``REPORT_LANG``);
here the kernel is started with those set, so no connection string is ever written into a
notebook, and the kernel speaks the language asked for (``analytics.language``). The kernel is this
very interpreter (a kernel spec made for the run), never whatever "python3" a user's
Jupyter set-up would find first. Charts are PNG outputs, which the HTML carries inline as
``data:`` URIs; the page loads no script or style from anywhere else, and shows outputs
only (the code stays in the notebook), without the cells tagged ``notebook-only`` (the
notebook's own introduction, for whoever opens it in JupyterLab).
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
from flask import has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from analytics.language import LANGUAGES, UnknownLanguage, language_of

FOLDER = Path(__file__).resolve().parent
NOTEBOOKS = {
    "migration": "migration.ipynb",
    "effectiveness": "effectiveness.ipynb",
    "followup": "followup.ipynb",
}
TITLES = {
    "migration": _l("Quadrant migration"),
    "effectiveness": _l("Experience effectiveness and budgets"),
    "followup": _l("Maturity follow-up and complaints"),
}
NOTEBOOK_ONLY = "notebook-only"
KERNEL = "crm-analytics"
TIMEOUT = 900

# The lab page without the scripts it would fetch from CDNs (require.js, MathJax, Mermaid):
# a report is read offline, and charts need none of them.
TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{% block extra_css %}<style>
/* On a phone a wide table scrolls within its own box; headings are not broken letter by
   letter, and charts shrink to the page. */
.jp-OutputArea-output { overflow-x: auto; }
.jp-RenderedHTMLCommon th { white-space: nowrap; }
.jp-RenderedImage img { max-width: 100%; height: auto; }
</style>{% endblock extra_css %}
"""


def notebook_path(name: str) -> Path:
    """The notebook of a report name (``migration``…), or a path to one."""
    if name in NOTEBOOKS:
        return FOLDER / NOTEBOOKS[name]
    path = Path(name)
    if not path.is_file():
        raise FileNotFoundError(f"no report or notebook {name!r}; reports: {', '.join(NOTEBOOKS)}")
    return path


def parameters(
    database_url: str | None,
    start: date | None,
    end: date | None,
    branch: str | None = None,
    language: str | None = None,
) -> dict[str, str]:
    """The environment the notebooks read their parameters from."""
    values = {
        "CRM_DATABASE_URL": database_url,
        "REPORT_FROM": start.isoformat() if start else None,
        "REPORT_TO": end.isoformat() if end else None,
        "REPORT_BRANCH": branch,
        "REPORT_LANG": language,
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


class Refused(ValueError):
    """A report asked for that cannot be made; the message says why, in the asker's
    language."""


def language_refusal(language: str | None) -> str | None:
    """Why reports cannot be written in ``language`` (None: they can)."""
    try:
        language_of(language)
    except UnknownLanguage:
        return _(
            "Reports are written in %(known)s; %(language)s is not one of them.",
            known=", ".join(LANGUAGES),
            language=language,
        )
    return None


def period_refusal(start: date, end: date, today: date) -> str | None:
    """Why a report cannot cover ``start``–``end`` (None: it can): a reversed period, or one
    that ends after today."""
    if start > end:
        return _("The period ends before it starts.")
    if end > today:
        return _("The period ends after today: a report covers days that are over.")
    return None


def refusal(start: date, end: date, today: date, language: str | None) -> str | None:
    """Why a report over ``start``–``end`` in ``language`` cannot be made (None: it can)."""
    return language_refusal(language) or period_refusal(start, end, today)


def check(start: date, end: date, today: date, language: str | None) -> str:
    """The report language, or ``Refused`` with the reason (see ``refusal``)."""
    reason = refusal(start, end, today, language)
    if reason:
        raise Refused(reason)
    return language_of(language)


def title(name: str, start: date | None, end: date | None, language: str) -> str:
    """A report's title in its language (in English outside an app, which holds the
    catalogue): what it is, and over which days."""
    from babel.dates import format_date

    def text() -> str:
        what = str(TITLES[name]) if name in TITLES else name.replace("_", " ").title()
        if not (start and end):
            return what
        return _(
            "%(report)s, %(start)s to %(end)s",
            report=what,
            start=format_date(start, "medium", locale=language),
            end=format_date(end, "medium", locale=language),
        )

    if not has_app_context():
        return text()
    with force_locale(language):
        return text()


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
        anchor_link_text="",  # a report read as a document: no ¶ beside its headings
    )
    notebook.metadata["title"] = title
    notebook.cells = [
        c for c in notebook.cells if NOTEBOOK_ONLY not in c.get("metadata", {}).get("tags", [])
    ]
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
    branch: str | None = None,
    language: str | None = None,
    timeout: int = TIMEOUT,
) -> Path:
    """Execute report ``name`` over the period (for one branch, in one language) and write
    it to ``out`` as HTML. The file appears whole or not at all: it is written beside
    ``out`` and renamed into place."""
    path = notebook_path(name)
    language = language_of(language)
    notebook = execute(path, parameters(database_url, start, end, branch, language), timeout)
    html = to_html(notebook, title(path.stem, start, end, language))
    html = html.replace("<html>", f'<html lang="{language.replace("_", "-")}">', 1)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(out)
    return out
