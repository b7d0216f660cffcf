"""The import and export pages as managers and staff use them."""

import csv
import io
import os

import openpyxl
import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, Customer

HEADER = ["姓名", "手机", "性别", "流动资产", "意愿"]
GOOD = [
    ["赵磊", "13512345678", "男", "1200000", "55"],
    ["钱芳", "13612345678", "女", "80000", "70"],
]
BAD = ["钱多多", "12345", "女", "", ""]


def as_csv(rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.fixture
def folder(settings, tmp_path):
    settings(CRM_IMPORT_FOLDER=str(tmp_path / "imports"))
    return tmp_path / "imports"


@pytest.fixture
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def customers():
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Customer))


def upload(client, data, name="名单.csv", mode="all"):
    return client.post(
        "/customers/import",
        data={"file": (io.BytesIO(data), name), "mode": mode},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("url", ["/customers/import", "/customers/import/abc"])
def test_staff_do_not_get_the_import(world, auth, folder, url):
    auth.login("alice")
    assert auth.client.get(url).status_code == 404
    assert upload(auth.client, as_csv([HEADER, *GOOD])).status_code == 404
    assert customers() == 3


def test_the_list_offers_export_to_all_and_import_to_managers(world, auth, english):
    auth.login("alice")
    page = auth.client.get("/customers?risk=R1").get_data(as_text=True)
    assert "/customers/export?format=csv&amp;risk=R1" in page and "/customers/import" not in page
    auth.logout()
    auth.login("manager")
    assert "/customers/import" in auth.client.get("/customers").get_data(as_text=True)


def test_a_file_with_a_bad_row_is_checked_reported_and_then_imported_in_two_steps(
    world, auth, folder, english
):
    auth.login("manager")
    response = upload(auth.client, as_csv([HEADER, GOOD[0], BAD, GOOD[1]], "gbk"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and customers() == 3  # checked, nothing written
    assert "Nothing will be imported while rows have problems" in page
    assert '<td class="num" data-label="Line">3</td>' in page and "手机" in page
    (token,) = os.listdir(folder)

    # The rows with problems can be downloaded already, with the reasons.
    rejects = auth.client.get(f"/customers/import/{token}/rejects")
    assert rejects.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
    lines = list(csv.reader(io.StringIO(rejects.get_data().decode("utf-8-sig"))))
    assert lines[0] == [*HEADER, "reason"] and lines[1][:2] == ["钱多多", "12345"]

    # All or nothing refuses; the user imports the valid rows only.
    response = auth.client.post(f"/customers/import/{token}", data={"mode": "valid"})
    assert response.status_code == 302 and customers() == 5
    result = auth.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 customers and 0 policies imported." in result
    assert "Download the rows not imported" in result
    assert not os.path.exists(folder / token / "upload")  # no copy kept of what is imported

    # Confirming twice imports nothing twice.
    again = auth.client.post(f"/customers/import/{token}", data={"mode": "valid"})
    assert again.status_code == 302 and customers() == 5
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.entity == "import")
        )
        == 1
    )


def test_a_clean_file_imports_all_after_confirming(world, auth, folder, english):
    auth.login("manager")
    page = upload(auth.client, as_csv([HEADER, *GOOD], "utf-8")).get_data(as_text=True)
    assert "Import 2 customers" in page and customers() == 3
    (token,) = os.listdir(folder)
    response = auth.client.post(f"/customers/import/{token}", data={"mode": "all"})
    assert response.status_code == 302 and customers() == 5
    result = auth.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Download the rows not imported" not in result


def test_an_all_or_nothing_confirm_of_a_bad_file_writes_nothing(world, auth, folder, english):
    auth.login("manager")
    upload(auth.client, as_csv([HEADER, GOOD[0], BAD]))
    (token,) = os.listdir(folder)
    response = auth.client.post(f"/customers/import/{token}", data={"mode": "all"})
    assert response.status_code == 200 and customers() == 3
    assert "Nothing will be imported" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "data, name, says",
    [
        (b"", "empty.csv", "The file is empty"),
        (as_csv([["姓名", "性别"], ["赵磊", "男"]]), "a.csv", "no column for: phone"),
        (b"name,phone\n\x80\x80\xff\n", "a.csv", "neither UTF-8 nor GBK"),
    ],
)
def test_unreadable_files_are_explained_on_the_form(world, auth, folder, english, data, name, says):
    auth.login("manager")
    response = upload(auth.client, data, name)
    assert response.status_code == 200 and says in response.get_data(as_text=True)
    assert customers() == 3 and not folder.exists()


def test_an_oversized_upload_gets_a_clear_message_not_an_error_page(settings, world, auth, english):
    settings(CRM_IMPORT_MAX_BYTES=100 * 1024)
    auth.login("manager")
    response = upload(auth.client, b"x" * (300 * 1024))
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The file is larger than 100 KB; split it" in page
    assert "Import customers" in page  # the upload form, ready for a smaller file


def test_a_waiting_import_is_its_uploaders_alone(world, auth, folder, app):
    auth.login("manager")
    upload(auth.client, as_csv([HEADER, *GOOD]))
    (token,) = os.listdir(folder)
    other = app.test_client()
    other.post("/login", data={"username": "admin", "password": "correct-horse"})
    assert other.post(f"/customers/import/{token}", data={"mode": "all"}).status_code == 404
    assert other.get(f"/customers/import/{token}/rejects").status_code == 404
    assert customers() == 3


def test_csv_export_is_masked_for_staff_filtered_and_audited(world, auth):
    auth.login("manager")
    # buffered: the streamed body is read within the request, as a server would send it.
    response = auth.client.get("/customers/export?format=csv&q=张", buffered=True)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [r[:2] for r in rows[1:]] == [["张伟", "138****1111"]]
    audited = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "export", AuditLog.field == "rows")
    ).all()
    assert [(a.actor_id, a.new_value) for a in audited] == [(world.manager.id, "1")]


def test_xlsx_export_for_an_admin_has_full_numbers(world, auth):
    auth.login("admin")
    response = auth.client.get("/customers/export?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    phones = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert phones == ["13800001111", "13900002222", "18600003333"]


def test_export_needs_a_login_and_a_known_format(world, auth, client):
    assert client.get("/customers/export?format=csv").status_code == 302
    auth.login("alice")
    assert client.get("/customers/export?format=pdf").status_code == 404
