"""An import past its size limit is refused as it arrives: 413, the upload page again with the
limit in the user's language, nothing read beyond the limit and nothing staged."""

from __future__ import annotations

import io
import re

import pytest

from crm.extensions import db
from crm.models import Customer
from tests.support.pages import count

LIMIT = 2048  # 2 KB


@pytest.fixture
def folder(settings, tmp_path):
    settings(CRM_IMPORT_MAX_BYTES=LIMIT, CRM_IMPORT_FOLDER=str(tmp_path / "imports"))
    return tmp_path / "imports"


def csv_of(size: int) -> bytes:
    """A valid customer list of exactly ``size`` bytes (blank lines make up the size)."""
    rows = "姓名,手机\r\n赵磊,13512345678\r\n".encode()
    return rows + b"\n" * (size - len(rows))


def upload(client, data: bytes, **headers):
    return client.post(
        "/customers/import",
        data={"file": (io.BytesIO(data), "名单.csv"), "mode": "all"},
        content_type="multipart/form-data",
        headers=headers,
    )


def staged(folder) -> list:
    return list(folder.iterdir()) if folder.exists() else []


def test_an_upload_at_the_limit_is_checked_and_one_byte_over_is_refused(world, auth, folder):
    auth.login("manager")
    at_limit = upload(auth.client, csv_of(LIMIT), **{"Accept-Language": "en"})
    assert at_limit.status_code == 200 and "Import 1 customer<" in at_limit.get_data(as_text=True)
    assert len(staged(folder)) == 1

    over = upload(auth.client, csv_of(LIMIT + 1), **{"Accept-Language": "en"})
    page = over.get_data(as_text=True)
    assert over.status_code == 413
    assert "The file is larger than 2 KB; split it" in page
    assert "Import customers" in page  # the upload form, ready for a smaller file
    assert len(staged(folder)) == 1 and count(Customer) == 3


class CountingStream(io.BytesIO):
    """A request body that remembers how much of it was read."""

    read_bytes = 0

    def read(self, size=-1):
        data = super().read(size)
        self.read_bytes += len(data)
        return data


def test_a_request_far_past_the_limit_is_refused_before_its_body_is_read(world, auth, folder):
    auth.login("manager")
    body = CountingStream(b"x" * (LIMIT + 200 * 1024))
    response = auth.client.post(
        "/customers/import",
        input_stream=body,
        content_length=len(body.getvalue()),
        content_type="multipart/form-data; boundary=----x",
        headers={"Accept-Language": "zh-CN"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "文件大于 2 KB，请拆分后分批导入。" in page and "导入客户" in page
    assert body.read_bytes == 0 and staged(folder) == []


def test_with_csrf_checks_on_the_limit_still_comes_first(world, app_factory, folder):
    """The CSRF check reads the form before any view: the limit must hold by then."""
    app = app_factory(
        WTF_CSRF_ENABLED=True, CRM_IMPORT_MAX_BYTES=LIMIT, CRM_IMPORT_FOLDER=str(folder)
    )
    with app.app_context():
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page)[1]
        client.post(
            "/login", data={"username": "manager", "password": "correct-horse", "csrf_token": token}
        )
        body = CountingStream(b"x" * (LIMIT + 200 * 1024))
        response = client.post(
            "/customers/import",
            input_stream=body,
            content_length=len(body.getvalue()),
            content_type="multipart/form-data; boundary=----x",
            headers={"Accept-Language": "en"},
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 413  # not a CSRF failure after reading it all
        assert "The file is larger than 2 KB" in page and "Import customers" in page
        assert body.read_bytes == 0

        # Someone who may not import gets the app's own page.
        other = app.test_client()
        anonymous = other.post(
            "/customers/import",
            input_stream=CountingStream(b"x" * (LIMIT + 200 * 1024)),
            content_length=LIMIT + 200 * 1024,
            content_type="multipart/form-data; boundary=----x",
            headers={"Accept-Language": "en"},
        )
        assert anonymous.status_code == 413
        assert "What you sent is too large." in anonymous.get_data(as_text=True)
        db.session.remove()
