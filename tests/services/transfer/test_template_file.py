"""The import template: every column the import reads, headed in the user's language, and an
example row that the import's check accepts as it is (uploaded back unchanged)."""

import pytest
from flask_babel import force_locale

from crm.models import Customer, Policy
from crm.services.transfer import importer
from crm.services.transfer.check import check_file
from crm.services.transfer.customer_columns import STORED
from crm.services.transfer.sheet import open_sheet
from crm.services.transfer.template_file import template_file
from tests.support.pages import count


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("locale", "file_name", "first"),
    [("zh_CN", "客户导入模板", "姓名"), ("en", "customer-import-template", "name")],
)
@pytest.mark.parametrize("who", ["manager", "admin"])
def test_the_template_uploaded_back_passes_the_check_with_one_row(
    world, kind, locale, file_name, first, who
):
    user = getattr(world, who)
    with force_locale(locale):
        name, data, _mime = template_file(user, kind)
        with open_sheet(name, data) as sheet:
            headers = list(sheet.headers)
        report = check_file(user, name, data).report
    assert name == f"{file_name}.{kind}"
    assert headers == [c.zh if locale == "zh_CN" else c.en for c in STORED]
    assert headers[0] == first
    assert (report.rows, report.customers, report.policies) == (1, 1, 1)
    assert report.problems == []


def test_the_template_imports_its_example(world):
    before = count(Customer), count(Policy)
    with force_locale("zh_CN"):
        name, data, _mime = template_file(world.manager, "xlsx")
        report = importer.import_file(world.manager, name, data)
    assert report.written
    assert (count(Customer), count(Policy)) == (before[0] + 1, before[1] + 1)
