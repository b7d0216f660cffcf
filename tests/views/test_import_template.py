"""The import page's template: downloaded in the user's language, it uploads back unchanged
and the check finds one customer with its policy and no problem."""

import io
import os

import pytest

from crm.models import Customer
from tests.support.pages import count, text_of

pytestmark = pytest.mark.backends("sqlite")

HEADERS = {"zh-CN": "姓名", "en": "name"}
CHECKED = {
    "zh-CN": "读取行数 1 待新建客户数 1 待登记保单数 1 问题行数 0 导入 1 位客户",
    "en": "Rows read 1 Customers to create 1 Policies to record 1 Rows with problems 0 "
    "Import 1 customer Upload",
}


@pytest.fixture
def folder(settings, tmp_path):
    settings(CRM_IMPORT_FOLDER=str(tmp_path / "imports"))
    return tmp_path / "imports"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_template_downloaded_uploads_back_and_passes_the_check(
    world, auth, folder, client, kind, language
):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    auth.login("manager")
    page = client.get("/customers/import").get_data(as_text=True)
    assert f'href="/customers/import/template.{kind}"' in page
    download = client.get(f"/customers/import/template.{kind}")
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    assert "attachment" in disposition and f".{kind}" in disposition
    data = download.get_data()
    if kind == "csv":
        assert data.decode("utf-8-sig").startswith(HEADERS[language] + ",")
    response = client.post(
        "/customers/import",
        data={"file": (io.BytesIO(data), f"template.{kind}"), "mode": "all"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert CHECKED[language] in text, text
    assert count(Customer) == 3  # checked: nothing written until confirmed
    assert len(os.listdir(folder)) == 1


def test_staff_who_may_not_import_get_no_template(world, auth):
    auth.login("alice")
    assert auth.client.get("/customers/import/template.csv").status_code == 404
    auth.logout()
    auth.login("manager")
    assert auth.client.get("/customers/import/template.pdf").status_code == 404
