"""Customer lists in and out as spreadsheets: import (managers, admins) and export (all).

An import is two steps, each a plain form post that answers with counts: the upload is
checked and the report shown (nothing written), then the user confirms and it is imported.
A long file thus shows where it stands between steps without any script in the page; the
upload waits between them in the import folder (``CRM_IMPORT_FOLDER``, by default
``instance/imports``; share it between machines when several serve the app), only for
its uploader, and is deleted once imported.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import time
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import RadioField, SelectChoice

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.forms import Form
from crm.services.customers.customer_list import CustomerFilters
from crm.services.transfer import customer_columns, exporter, importer

bp = Blueprint("transfer", __name__)

STAGED_FOR = 24 * 3600  # seconds an unfinished import waits before it is cleared away
PROBLEMS_SHOWN = 1000  # on the report page; the rejects file holds them all
MODES = [
    SelectChoice(
        importer.Mode.ALL_OR_NOTHING.value,
        _l("All or nothing: import only if every row is valid"),
    ),
    SelectChoice(
        importer.Mode.VALID_ROWS.value,
        _l("Valid rows only: import those, and give me the others to fix"),
    ),
]


class ImportForm(Form):
    file = FileField(_l("Customer list (CSV or XLSX)"))
    mode = RadioField(_l("If some rows have problems"), choices=MODES, default=MODES[0].value)


def importer_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not importer.may_import(current_user):
            abort(404)  # like the admin pages: not there for those who may not use it
        return view(*args, **kwargs)

    return wrapped


# --- the waiting upload -------------------------------------------------------------------


def _folder() -> str:
    return current_app.config.get("CRM_IMPORT_FOLDER") or os.path.join(
        current_app.instance_path, "imports"
    )


def _clear_old() -> None:
    folder = _folder()
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if os.path.isdir(path) and time.time() - os.path.getmtime(path) > STAGED_FOR:
            shutil.rmtree(path, ignore_errors=True)


def _stage(data: bytes, file_name: str) -> str:
    _clear_old()
    token = secrets.token_urlsafe(16)
    path = os.path.join(_folder(), token)
    os.makedirs(path, mode=0o700)
    with open(os.path.join(path, "upload"), "wb") as f:
        f.write(data)
    _save_meta(token, {"user_id": current_user.id, "file_name": file_name, "result": None})
    return token


def _path(token: str, name: str) -> str:
    return os.path.join(_folder(), token, name)


def _save_meta(token: str, meta: dict) -> None:
    with open(_path(token, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False)


def _meta_or_404(token: str) -> dict:
    """A waiting import of the current user's, or 404 (someone else's does not exist)."""
    if not token.replace("-", "").replace("_", "").isalnum():
        abort(404)
    try:
        with open(_path(token, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        abort(404)
    if meta.get("user_id") != current_user.id:
        abort(404)
    return meta


def _upload(token: str) -> bytes | None:
    try:
        with open(_path(token, "upload"), "rb") as f:
            return f.read()
    except OSError:
        return None


def _keep_rejects(token: str, report: importer.Report, data: bytes) -> None:
    name, content, mimetype = importer.rejects_file(report, data)
    with open(_path(token, "rejects"), "wb") as f:
        f.write(content)
    meta = _meta_or_404(token)
    meta["rejects"] = {"name": name, "mimetype": mimetype}
    _save_meta(token, meta)


# --- import --------------------------------------------------------------------------------


def _read_upload(form: ImportForm) -> tuple[str, bytes]:
    """The uploaded file's name and bytes, or ``InvalidInput`` saying what is wrong."""
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        raise InvalidInput({"file": _l("Choose a CSV or XLSX file to upload.")})
    limit = importer.max_bytes()
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput({"file": importer.too_large_message()})
    return os.path.basename(upload.filename), data


@bp.route("/customers/import", methods=["GET", "POST"])
@importer_required
def upload():
    # Room for the form around the file; a larger request is refused before it is read.
    request.max_content_length = importer.max_bytes() + 64 * 1024
    try:
        form = ImportForm()
        submitted = form.validate_on_submit()
    except RequestEntityTooLarge:
        form = ImportForm(formdata=None)
        form.file.errors = [importer.too_large_message()]
        return _upload_page(form, 413)
    if submitted:
        try:
            file_name, data = _read_upload(form)
            mode = importer.Mode(form.mode.data or importer.Mode.ALL_OR_NOTHING)
            checked = importer.check_file(current_user, file_name, data, mode)
        except InvalidInput as error:
            db.session.rollback()
            form.file.errors = list(error.errors.values())
        else:
            db.session.rollback()  # a check writes nothing
            token = _stage(data, file_name)
            if checked.report.problems:
                _keep_rejects(token, checked.report, data)
            return _report_page(token, checked.report)
    return _upload_page(form)


def _upload_page(form: ImportForm, status: int = 200):
    return render_template(
        "transfer/upload.html", form=form, columns=customer_columns.STORED
    ), status


def _report_page(token: str, report: importer.Report, error=None, status: int = 200):
    return (
        render_template(
            "transfer/report.html",
            token=token,
            report=report,
            problems=report.problems[:PROBLEMS_SHOWN],
            error=error,
            rejects=_meta_or_404(token).get("rejects"),
            Mode=importer.Mode,
        ),
        status,
    )


@bp.route("/customers/import/<token>", methods=["POST"])
@importer_required
def confirm(token: str):
    """The second step: check again (the data may have moved on) and import."""
    meta = _meta_or_404(token)
    data = _upload(token)
    if data is None or meta.get("result"):
        return redirect(url_for("transfer.result", token=token))
    try:
        mode = importer.Mode(request.form.get("mode", ""))
    except ValueError:
        abort(400)
    try:
        report = importer.import_file(current_user, meta["file_name"], data, mode)
    except InvalidInput as error:
        db.session.rollback()
        checked = importer.check_file(current_user, meta["file_name"], data, mode)
        db.session.rollback()
        return _report_page(token, checked.report, error=error.errors.get("file"), status=409)
    if not report.written:
        db.session.rollback()
        if report.problems:
            _keep_rejects(token, report, data)
        return _report_page(token, report)
    db.session.commit()
    if report.problems:
        _keep_rejects(token, report, data)
    meta = _meta_or_404(token)
    meta["result"] = {
        "mode": report.mode.value,
        "rows": report.rows,
        "created": report.created,
        "policies": report.policies_created,
        "rejected": len(report.rejected_lines),
    }
    if not report.problems:
        meta.pop("rejects", None)
    _save_meta(token, meta)
    os.remove(_path(token, "upload"))  # imported: the customers are in the CRM now
    return redirect(url_for("transfer.result", token=token))


@bp.route("/customers/import/<token>")
@importer_required
def result(token: str):
    meta = _meta_or_404(token)
    if not meta.get("result"):
        return redirect(url_for("transfer.upload"))
    return render_template(
        "transfer/result.html",
        token=token,
        file_name=meta["file_name"],
        result=meta["result"],
        rejects=meta.get("rejects"),
    )


@bp.route("/customers/import/<token>/rejects")
@importer_required
def rejects(token: str):
    meta = _meta_or_404(token)
    kept = meta.get("rejects")
    if not kept or not os.path.exists(_path(token, "rejects")):
        abort(404)
    return send_file(
        _path(token, "rejects"),
        mimetype=kept["mimetype"],
        as_attachment=True,
        download_name=kept["name"],
        max_age=0,
    )


# --- export --------------------------------------------------------------------------------


@bp.route("/customers/export")
@login_required
def export():
    """The customer list as the filters show it, as CSV or XLSX (audited before it leaves)."""
    try:
        format = exporter.Format(request.args.get("format", "csv"))
    except ValueError:
        abort(404)
    filters = CustomerFilters.from_args(request.args)
    started = exporter.start_export(current_user, filters, format)
    db.session.commit()
    headers = {"Cache-Control": "no-store"}
    if format == exporter.Format.CSV:
        headers["Content-Disposition"] = f'attachment; filename="{started.file_name}"'
        return Response(
            stream_with_context(exporter.csv_chunks(started)),
            mimetype=started.mimetype,
            headers=headers,
        )
    # A workbook is a zip, finished only at its end: written to a temporary file first.
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (sent, then closed)
    exporter.write_xlsx(started, out)
    out.seek(0)
    response = send_file(
        out, mimetype=started.mimetype, as_attachment=True, download_name=started.file_name
    )
    response.headers.update(headers)
    return response
