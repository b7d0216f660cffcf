"""The columns of a customer list file (客户名单), by header in Chinese or English: what an
import reads (``layout_of`` finds them under whatever name a bank's file gives them) and what an
export and a rejects file write (``Column.header``, in the user's language).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from crm.core.inputs import InvalidInput


@dataclass(frozen=True)
class Column:
    """A column the importer reads: the field, its header in each language, other names."""

    field: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    policy: bool = False

    def header(self) -> str:
        """The header in the user's language (exports write it; reports name it)."""
        locale = get_locale()
        return self.zh if locale is not None and locale.language == "zh" else self.en


COLUMNS = (
    Column("name", "姓名", "name", ("客户姓名", "客户名称", "名字", "customer name", "full name")),
    Column(
        "phone",
        "手机",
        "phone",
        ("手机号", "手机号码", "电话", "联系电话", "移动电话", "mobile", "mobile phone"),
    ),
    Column("gender", "性别", "gender", ("sex",)),
    Column("birth_date", "出生日期", "birth date", ("生日", "date of birth", "birthday")),
    Column(
        "liquid_assets",
        "流动资产",
        "liquid assets",
        ("可投资资产", "金融资产", "investable assets", "liquid assets cny"),
    ),
    Column("assets_as_of", "资产日期", "assets as of", ("资产截至日期",)),
    Column("willingness", "意愿", "willingness", ("意愿度", "意愿分", "客户成熟度")),
    Column("risk_level", "风险等级", "risk level", ("风险承受能力", "风险评级")),
    Column("channel", "获客渠道", "channel", ("渠道", "客户来源", "acquisition channel")),
    Column("owner", "客户经理", "owner", ("理财经理", "归属客户经理", "relationship manager")),
    Column("branch", "网点", "branch", ("所属网点", "支行")),
    Column("tags", "标签", "tags", ("tag",)),
    Column("sms_consent", "短信同意", "sms consent", ("营销同意", "短信营销同意")),
    Column("email", "邮箱", "email", ("电子邮箱", "电邮", "e-mail")),
    Column("occupation", "职业", "occupation", ()),
    Column("family_notes", "家庭情况", "family", ("家庭",)),
    Column("interests_notes", "兴趣爱好", "interests", ("爱好", "兴趣")),
    Column("notes", "备注", "notes", ("说明", "remarks")),
    Column("policy_number", "保单号", "policy number", ("保单号码", "policy no"), True),
    Column("product_name", "产品名称", "product name", ("产品", "险种名称"), True),
    Column("product_type", "险种", "product type", ("险种类型",), True),
    Column("premium", "保费", "premium", ("保险费",), True),
    Column("payment_mode", "缴费方式", "payment mode", ("交费方式",), True),
    Column("start_date", "生效日期", "start date", ("承保日期", "起保日期"), True),
    Column("maturity_date", "满期日", "maturity date", ("满期日期", "到期日"), True),
    # Seed 000's compliance record, needed for an investment-type product's policy.
    Column("dual_recording_ref", "双录编号", "dual recording ref", ("双录号",), True),
    Column(
        "returns_notice_shown",
        "收益演示为假设情景",
        "returns notice shown",
        ("已告知收益为假设情景", "收益演示告知"),
        True,
    ),
    Column("risk_acknowledged", "已了解产品风险", "risk acknowledged", ("风险确认",), True),
    # Written by exports and rejects files, read back without complaint, never stored:
    # the quadrant follows from assets and willingness, the reason was ours.
    Column("quadrant", "分层", "quadrant", ("客户分层",)),
    Column("reason", "错误原因", "reason", ("原因",)),
)
BY_FIELD = {c.field: c for c in COLUMNS}
REQUIRED = ("name", "phone")
IGNORED = ("quadrant", "reason")
# What the upload page lists: the columns an import stores.
STORED = tuple(c for c in COLUMNS if c.field not in IGNORED)
POLICY_FIELDS = tuple(c.field for c in COLUMNS if c.policy)


def header_key(text: str) -> str:
    """A header as compared: width, case, spaces, marks and a unit in brackets ignored."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    text = re.sub(r"\([^)]*\)$", "", text)  # 流动资产（元）, liquid assets (CNY)
    return re.sub(r"[\s_\-*:.]", "", text)


def header_table() -> dict[str, Column]:
    table = {}
    for column in COLUMNS:
        for name in (column.zh, column.en, column.field, *column.aliases):
            table[header_key(name)] = column
    return table


@dataclass
class Layout:
    """Where each known column is in the file, and what its header says there."""

    index: dict[str, int]
    headers: list[str]
    ignored: list[str]

    def header(self, field_name: str | None) -> str:
        """The column as the user knows it: their header if the file has it, else ours."""
        if field_name is None:
            return ""
        if field_name in self.index:
            return self.headers[self.index[field_name]]
        return BY_FIELD[field_name].header() if field_name in BY_FIELD else field_name


def layout_of(headers: list[str]) -> Layout:
    """Map headers to columns; refuse two columns read as one, or a required one missing."""
    table = header_table()
    index: dict[str, int] = {}
    ignored = []
    for position, text in enumerate(headers):
        column = table.get(header_key(text)) if text.strip() else None
        if column is None:
            if text.strip():
                ignored.append(text.strip())
            continue
        if column.field in index:
            raise InvalidInput(
                {
                    "file": _l(
                        "Two columns, “%(a)s” and “%(b)s”, are both read as %(what)s; keep one.",
                        a=headers[index[column.field]].strip(),
                        b=text.strip(),
                        what=column.header(),
                    )
                }
            )
        index[column.field] = position
    missing = [BY_FIELD[f].header() for f in REQUIRED if f not in index]
    if missing:
        raise InvalidInput(
            {
                "file": _l(
                    "The file has no column for: %(columns)s. The first row must name the "
                    "columns, such as %(example)s.",
                    columns=", ".join(missing),
                    example=", ".join(BY_FIELD[f].header() for f in ("name", "phone", "gender")),
                )
            }
        )
    return Layout(index, [h.strip() for h in headers], ignored)
