"""The import template (导入模板): a customer list file with every column the import reads,
headed in the user's language, and one example row that the import accepts as it is.

The example names the downloading user's own owner and branch (or, for an admin, the first
staff member they may give a customer to), so that it passes the import's check unchanged:
the template is the quickest way to see what a good row looks like.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import get_locale

from crm import labels
from crm.core import access
from crm.core.clock import local_today
from crm.models import Staff
from crm.models.enums import Channel, Gender, PaymentMode, ProductType, RiskLevel
from crm.services.transfer import spreadsheets
from crm.services.transfer.customer_columns import STORED

# What the example says in each language (the codes and labels the import reads either way).
_WORDS = {
    "zh": {
        "tags": "高净值，企业主",
        "family_notes": "已婚，一子在读高中",
        "interests_notes": "高尔夫、书法",
        "notes": "网点老客户，偏好上午联系",
        "occupation": "企业主",
        "yes": "是",
        "product_name": "安康终身寿险",
        "file": "客户导入模板",
    },
    "en": {
        "tags": "high net worth, business owner",
        "family_notes": "married, one son in high school",
        "interests_notes": "golf, calligraphy",
        "notes": "long-standing branch customer; prefers mornings",
        "occupation": "business owner",
        "yes": "yes",
        "product_name": "Ankang Whole Life",
        "file": "customer-import-template",
    },
}


def _language() -> str:
    locale = get_locale()
    return "zh" if locale is not None and locale.language == "zh" else "en"


def _owner_for(user: Staff) -> Staff:
    """The user, if they may own customers; else the first one they may give them to."""
    owners = [s for s in access.assignable_owners(user) if s.branch_id is not None]
    return user if user in owners or not owners else owners[0]


def example_row(user: Staff, today: date | None = None) -> dict[str, Any]:
    """The example row, by field, in the user's language."""
    today = today or local_today()
    words = _WORDS[_language()]
    owner = _owner_for(user)
    return {
        "name": "王小明",
        "phone": "13800138000",
        "gender": str(labels.GENDER[Gender.MALE]),
        "birth_date": "1978-05-17",
        "liquid_assets": "1,200,000.00",
        "assets_as_of": today.isoformat(),
        "willingness": "60",
        "risk_level": str(labels.RISK_LEVEL[RiskLevel.R3]),
        "channel": str(labels.CHANNEL[Channel.OWN_NETWORK]),
        "owner": owner.username,
        "branch": owner.branch.name if owner.branch is not None else "",
        "tags": words["tags"],
        "sms_consent": words["yes"],
        "email": "wangxm@example.com",
        "occupation": words["occupation"],
        "family_notes": words["family_notes"],
        "interests_notes": words["interests_notes"],
        "notes": words["notes"],
        "policy_number": "P2024000001",
        "product_name": words["product_name"],
        "product_type": str(labels.PRODUCT_TYPE[ProductType.WHOLE_LIFE]),
        "premium": "12,000.00",
        "payment_mode": str(labels.PAYMENT_MODE[PaymentMode.REGULAR]),
        "start_date": "2024-03-01",
        "maturity_date": "",
        "dual_recording_ref": "",
        "returns_notice_shown": "",
        "risk_acknowledged": "",
    }


def template_file(user: Staff, kind: str) -> tuple[str, bytes, str]:
    """The template as ``kind`` ("csv" or "xlsx"): (file name, content, MIME type)."""
    example = example_row(user)
    headers = [column.header() for column in STORED]
    row = [example.get(column.field, "") for column in STORED]
    name = f"{_WORDS[_language()]['file']}.{kind}"
    if kind == "xlsx":
        return name, spreadsheets.xlsx_bytes(headers, [row]), spreadsheets.XLSX_MIME
    return name, spreadsheets.csv_bytes(headers, [row]), spreadsheets.CSV_MIME
