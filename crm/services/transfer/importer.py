"""Customer import (客户导入): the spreadsheets banks hand over, as CSV or XLSX.

Check first, then write. The file is read (``sheet``, ``cells``) and every row checked by the
dossier's own rules (``check``); then, in one transaction, either everything is written or
nothing (the default), or, if the user chose so, only the valid rows (``write``), the others
going to a rejects file in the uploaded format with a reason column (``rejects``), to be fixed
and uploaded again.
"""

from __future__ import annotations

from crm.models import Staff
from crm.models.enums import Role
from crm.services.transfer.check import check_file
from crm.services.transfer.report import Mode, Progress, Report
from crm.services.transfer.write import write_customers


def may_import(user: Staff | None) -> bool:
    """Managers and admins import (None: the command line acting as the system)."""
    return user is None or user.role in (Role.MANAGER, Role.ADMIN)


def import_file(
    user: Staff | None,
    file_name: str,
    data: bytes,
    mode: Mode = Mode.ALL_OR_NOTHING,
    *,
    progress: Progress | None = None,
) -> Report:
    """Check the file, then write what the mode allows in the session's transaction; the
    caller commits. Nothing is written when the mode refuses (``report.written`` False)."""
    checked = check_file(user, file_name, data, mode, progress=progress)
    report = checked.report
    if report.can_import:
        write_customers(user, checked, progress=progress)
    return report
