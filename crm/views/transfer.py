"""Customer lists in and out as spreadsheets: import (managers, admins) and export (all).

An import is two steps, each a plain form post that answers with counts: the upload is
checked and the report shown (nothing written), then the user confirms and it is imported.
A long file thus shows where it stands between steps without any script in the page; the
upload waits between them in the import folder (``crm.services.transfer.uploads``).
"""

from __future__ import annotations

import io
import tempfile
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
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
from crm.services.transfer import customer_columns, exporter, importer, template_file, uploads
from crm.services.transfer.check import check_file
from crm.services.transfer.limits import TooLarge, max_bytes, too_large_message
from crm.services.transfer.report import Mode, Report
from crm.services.transfer.uploads import StagedImport
from crm.views.errors import error_page

bp = Blueprint("transfer", __name__)

PROBLEMS_SHOWN = 1000  # on the report page; the rejects file holds them all
MODES = [
    SelectChoice(
        Mode.ALL_OR_NOTHING.value,
        _l("All or nothing: import only if every row is valid"),
    ),
    SelectChoice(
        Mode.VALID_ROWS.value,
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


def _staged_or_404(token: str) -> StagedImport:
    """A waiting import of the current user's, or 404 (someone else's does not exist)."""
    staged = uploads.staged_of(current_user, token)
    if staged is None:
        abort(404)
    return staged


# --- import --------------------------------------------------------------------------------

FORM_ROOM = 64 * 1024  # what the form around the file may add to the request


@bp.url_value_preprocessor
def _limit_upload(endpoint, _values) -> None:
    """An upload's size limit, set before anything reads the body (the CSRF check reads the
    form before the view runs): a larger request is refused as it arrives, never read whole."""
    if endpoint == "transfer.upload":
        request.max_content_length = max_bytes() + FORM_ROOM


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error):
    """The upload form again with the limit, for whoever may import; others get the app's
    page (the import does not exist for them)."""
    may_import = current_user.is_authenticated and importer.may_import(current_user)
    if request.endpoint == "transfer.upload" and may_import:
        form = ImportForm(formdata=None)
        form.file.errors = [too_large_message()]
        return _upload_page(form, 413)
    return error_page(413)


@bp.route("/customers/import", methods=["GET", "POST"])
@importer_required
def upload():
    form = ImportForm()
    if form.validate_on_submit():
        try:
            file_name, data = uploads.read_upload(form.file.data)
            mode = Mode(form.mode.data or Mode.ALL_OR_NOTHING)
            checked = check_file(current_user, file_name, data, mode)
        except TooLarge as error:  # within the form's room, but past the file's limit
            form.file.errors = list(error.errors.values())
            return _upload_page(form, 413)
        except InvalidInput as error:
            db.session.rollback()
            form.file.errors = list(error.errors.values())
        else:
            db.session.rollback()  # a check writes nothing
            staged = uploads.stage(current_user, file_name, data)
            uploads.keep_rejects(staged, checked.report, data)
            return _report_page(staged, checked.report)
    return _upload_page(form)


def _upload_page(form: ImportForm, status: int = 200):
    return render_template(
        "transfer/upload.html", form=form, columns=customer_columns.STORED
    ), status


def _report_page(staged: StagedImport, report: Report, error=None, status: int = 200):
    return (
        render_template(
            "transfer/report.html",
            token=staged.token,
            report=report,
            problems=report.problems[:PROBLEMS_SHOWN],
            error=error,
            rejects=staged.rejects,
            Mode=Mode,
        ),
        status,
    )


@bp.route("/customers/import/template.<any(csv, xlsx):kind>")
@importer_required
def template(kind: str):
    """A file to fill in: every column the import reads, in the user's language, and one
    example row that imports as it is."""
    file_name, content, mimetype = template_file.template_file(current_user, kind)
    response = send_file(
        io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=file_name
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/customers/import/<token>", methods=["POST"])
@importer_required
def confirm(token: str):
    """The second step: check again (the data may have moved on) and import."""
    staged = _staged_or_404(token)
    data = uploads.upload_of(staged)
    if data is None or staged.result:
        return redirect(url_for("transfer.result", token=token))
    try:
        mode = Mode(request.form.get("mode", ""))
    except ValueError:
        abort(400)
    try:
        report = importer.import_file(current_user, staged.file_name, data, mode)
    except InvalidInput as error:
        db.session.rollback()
        checked = check_file(current_user, staged.file_name, data, mode)
        db.session.rollback()
        return _report_page(staged, checked.report, error=error.errors.get("file"), status=409)
    if not report.written:
        db.session.rollback()
        uploads.keep_rejects(staged, report, data)
        return _report_page(staged, report)
    db.session.commit()
    uploads.mark_imported(staged, report, data)
    return redirect(url_for("transfer.result", token=token))


@bp.route("/customers/import/<token>")
@importer_required
def result(token: str):
    staged = _staged_or_404(token)
    if not staged.result:
        return redirect(url_for("transfer.upload"))
    return render_template(
        "transfer/result.html",
        token=token,
        file_name=staged.file_name,
        result=staged.result,
        rejects=staged.rejects,
    )


@bp.route("/customers/import/<token>/rejects")
@importer_required
def rejects(token: str):
    staged = _staged_or_404(token)
    path = uploads.rejects_path(staged)
    if path is None:
        abort(404)
    return send_file(
        path,
        mimetype=staged.rejects["mimetype"],
        as_attachment=True,
        download_name=staged.rejects["name"],
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
