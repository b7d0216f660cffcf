"""The exported customer file as a spreadsheet program receives it: one charset in its
Content-Type, and the owner by the name colleagues know (李晓红), not a log-in (staff1)."""

from __future__ import annotations

import csv
import io

import pytest

from crm.extensions import db

pytestmark = pytest.mark.backends("sqlite")


def test_the_csv_names_one_charset_and_the_owner_by_name(world, auth):
    world.alice.display_name = "李晓红"
    db.session.commit()
    auth.login("manager")
    response = auth.client.get("/customers/export?format=csv&q=张", buffered=True)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    header, row = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    owner = row[header.index("客户经理")]
    assert owner == "李晓红"
