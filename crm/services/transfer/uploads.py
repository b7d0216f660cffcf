"""Uploads waiting to be imported (待导入文件).

An import is two steps, each a plain form post that answers with counts: the upload is
checked and the report shown (nothing written), then the user confirms and it is imported.
Between the steps the upload waits in the import folder (``CRM_IMPORT_FOLDER``, by default
``instance/imports``; share it between machines when several serve the app), only for its
uploader, with the file of its rejected rows once there is one. It is deleted once imported;
one never confirmed is cleared away a day later.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.core.inputs import InvalidInput
from crm.models import Staff
from crm.services.transfer.limits import TooLarge, max_bytes
from crm.services.transfer.rejects import rejects_file
from crm.services.transfer.report import Report

STAGED_FOR = 24 * 3600  # seconds an unfinished import waits before it is cleared away


@dataclass
class StagedImport:
    """An upload waiting between its check and its import, as its folder records it."""

    token: str
    user_id: int
    file_name: str
    result: dict[str, Any] | None = None  # the counts, once imported
    rejects: dict[str, str] | None = None  # the rejects file's name and MIME type, once kept


def read_upload(upload) -> tuple[str, bytes]:
    """The uploaded file's name and bytes, or ``InvalidInput`` saying what is wrong
    (``TooLarge`` past the limit: no more than one byte over it is read)."""
    if upload is None or not getattr(upload, "filename", ""):
        raise InvalidInput({"file": _l("Choose a CSV or XLSX file to upload.")})
    limit = max_bytes()
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise TooLarge()
    return os.path.basename(upload.filename), data


def stage(user: Staff, file_name: str, data: bytes) -> StagedImport:
    """Keep a checked upload until its uploader confirms it."""
    _clear_old()
    token = secrets.token_urlsafe(16)
    os.makedirs(os.path.join(_folder(), token), mode=0o700)
    with open(_path(token, "upload"), "wb") as f:
        f.write(data)
    staged = StagedImport(token, user.id, file_name)
    _save(staged)
    return staged


def staged_of(user: Staff, token: str) -> StagedImport | None:
    """A waiting import of the user's, or None (someone else's does not exist)."""
    if not token.replace("-", "").replace("_", "").isalnum():
        return None
    try:
        with open(_path(token, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    if meta.get("user_id") != user.id:
        return None
    return StagedImport(
        token, meta["user_id"], meta["file_name"], meta.get("result"), meta.get("rejects")
    )


def upload_of(staged: StagedImport) -> bytes | None:
    """The uploaded bytes, or None once imported."""
    try:
        with open(_path(staged.token, "upload"), "rb") as f:
            return f.read()
    except OSError:
        return None


def keep_rejects(staged: StagedImport, report: Report, data: bytes) -> None:
    """Keep the rows the report refuses, if any, as a file to download, fix and upload again."""
    if not report.problems:
        return
    name, content, mimetype = rejects_file(report, data)
    with open(_path(staged.token, "rejects"), "wb") as f:
        f.write(content)
    staged.rejects = {"name": name, "mimetype": mimetype}
    _save(staged)


def mark_imported(staged: StagedImport, report: Report, data: bytes) -> None:
    """Record what the import did and delete the upload: the customers are in the CRM now."""
    keep_rejects(staged, report, data)
    staged.result = {
        "mode": report.mode.value,
        "rows": report.rows,
        "created": report.created,
        "policies": report.policies_created,
        "rejected": len(report.rejected_lines),
    }
    if not report.problems:
        staged.rejects = None
    _save(staged)
    os.remove(_path(staged.token, "upload"))


def rejects_path(staged: StagedImport) -> str | None:
    """Where the rejected rows wait to be downloaded, if they were kept."""
    path = _path(staged.token, "rejects")
    return path if staged.rejects and os.path.exists(path) else None


def _folder() -> str:
    return current_app.config.get("CRM_IMPORT_FOLDER") or os.path.join(
        current_app.instance_path, "imports"
    )


def _path(token: str, name: str) -> str:
    return os.path.join(_folder(), token, name)


def _save(staged: StagedImport) -> None:
    meta = asdict(staged)
    del meta["token"]  # the folder's name
    if meta["rejects"] is None:
        del meta["rejects"]
    with open(_path(staged.token, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False)


def _clear_old() -> None:
    folder = _folder()
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if os.path.isdir(path) and time.time() - os.path.getmtime(path) > STAGED_FOR:
            shutil.rmtree(path, ignore_errors=True)
