"""The churn weights page (流失预警权重, /admin/churn-weights): admins change the weights,
checked as the command line checks them and audited; managers read them; a preview counts the
levels under the typed weights without saving; a save over someone else's newer one is
refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, Setting
from crm.models.base import utcnow
from crm.services.retention import signals
from tests.support.factories import make_customer

URL = "/admin/churn-weights"
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def form(page: str, **weights) -> dict[str, str]:
    """What the admin's browser would send: the page's fingerprint and every weight shown,
    with ``weights`` typed over them."""
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', page).group(1)
    data = {"fingerprint": fingerprint}
    for s in signals.SIGNALS:
        shown = re.search(rf'name="weight\.{s.code}"\s+inputmode="decimal"\s+value="([^"]*)"', page)
        data[f"weight.{s.code}"] = shown.group(1)
    data.update({f"weight.{code}": str(value) for code, value in weights.items()})
    return data


def weight_settings() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Setting)
        .where(Setting.key.startswith(signals.WEIGHT_KEY))
    )


def weight_audits() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditLog)
        .where(AuditLog.field.startswith("churn_weight_"))
    )


def test_an_admin_sees_each_signal_in_words_in_both_languages(world, auth, client):
    auth.login("admin")
    zh = client.get(URL, headers=ZH).get_data(as_text=True)
    assert "流失预警权重" in zh
    assert "连续 90 天或更久没有正面接触" in zh
    assert "流动资产 180 天内下调 20% 或更多；下调 50% 计满权重。" in zh
    assert "当前：25；默认：25" in zh
    en = client.get(URL, headers=EN).get_data(as_text=True)
    assert "Churn weights" in en
    assert "Willingness fell 10 points or more in 90 days" in en
    for s in signals.SIGNALS:
        assert f'name="weight.{s.code}"' in en


def test_an_admin_saves_new_weights_audited_and_the_command_line_sees_them(
    world, auth, client, app, monkeypatch
):
    auth.login("admin")
    page = client.get(URL).get_data(as_text=True)
    response = client.post(URL, data=form(page, silence=30, negative="7.5"))
    assert response.status_code == 302
    weights = signals.current_weights()
    assert (weights["silence"], weights["negative"], weights["complaint"]) == (30, 7.5, 10)
    audits = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.field.startswith("churn_weight_"))
    ).all()
    assert {(a.field, float(a.old_value), float(a.new_value), a.actor_id) for a in audits} == {
        ("churn_weight_silence", 25, 30, world.admin.id),
        ("churn_weight_negative", 10, 7.5, world.admin.id),
    }
    assert "流失预警权重已保存" in client.get(URL).get_data(as_text=True)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    shown = app.test_cli_runner().invoke(args=["crm", "churn-weights"]).output
    assert re.search(r"^silence\s+30$", shown, re.M)
    assert re.search(r"^negative\s+7.5$", shown, re.M)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "权重须为数字，例如 15 或 7.5。"),
        ("", "权重须为数字，例如 15 或 7.5。"),
        ("-1", "权重须为 0 到 100 之间的数字。"),
        ("100.5", "权重须为 0 到 100 之间的数字。"),
        ("NaN", "权重须为数字，例如 15 或 7.5。"),
    ],
)
def test_a_weight_out_of_range_or_not_a_number_is_refused_and_nothing_written(
    world, auth, client, app, monkeypatch, typed, message
):
    auth.login("admin")
    page = client.get(URL, headers=ZH).get_data(as_text=True)
    response = client.post(URL, data=form(page, silence=40, matured=typed), headers=ZH)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert message in text
    assert "未保存任何内容。请更正下方标出的权重后再保存。" in text
    assert 'aria-invalid="true"' in text
    assert f'value="{typed}"' in text  # what was typed is kept
    assert (weight_settings(), weight_audits()) == (0, 0)
    # The command line refuses the same weight with the same words.
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    refused = app.test_cli_runner().invoke(
        args=["crm", "churn-weights", "--set", f"matured={typed}"]
    )
    assert refused.exit_code != 0
    assert message in refused.output
    assert (weight_settings(), weight_audits()) == (0, 0)


def test_managers_read_the_weights_but_cannot_change_them(world, auth, client):
    auth.login("manager")
    page = client.get(URL, headers=ZH).get_data(as_text=True)
    assert "只有管理员可以修改权重。" in page
    assert 'name="weight.silence"' not in page
    assert 'data-signal="silence"' in page
    assert client.post(URL, data={"weight.silence": "90"}).status_code == 404
    assert weight_settings() == 0
    auth.logout()
    auth.login("alice")
    assert client.get(URL).status_code == 404
    assert "/admin/churn-weights" not in client.get("/today").get_data(as_text=True)


def test_a_save_over_someone_elses_newer_weights_is_refused_then_applies_when_sent_again(
    world, auth, client
):
    auth.login("admin")
    page = client.get(URL, headers=ZH).get_data(as_text=True)
    signals.save_weights(world.admin, {"negative": 5.0})  # another admin, meanwhile
    db.session.commit()
    response = client.post(URL, data=form(page, silence=35), headers=ZH)
    assert response.status_code == 200
    refused = response.get_data(as_text=True)
    assert "您打开本页后，已有其他人保存了权重。" in refused
    assert signals.current_weights()["silence"] == 25
    assert "当前：5；默认：10" in refused  # the newer weight shows beside the typed one
    again = client.post(URL, data=form(refused, negative=5), headers=ZH)
    assert again.status_code == 302
    assert signals.current_weights()["silence"] == 35
    assert signals.current_weights()["negative"] == 5


def test_the_preview_counts_the_levels_under_the_typed_weights_and_saves_nothing(
    world, auth, client, backend
):
    for n in range(2):  # opened 200 days ago, never a positive contact since
        customer = make_customer(world.alice, f"沉默客户{n}", f"+861370002{n:04d}")
        customer.created_at = utcnow() - timedelta(days=200)
    db.session.commit()
    auth.login("admin")
    page = client.get(URL, headers=ZH).get_data(as_text=True)
    response = client.post(URL, data={**form(page, silence=70), "preview": "1"}, headers=ZH)
    assert response.status_code == 200
    shown = response.get_data(as_text=True)
    preview = shown.split('data-testid="levels-preview"', 1)[1].split("</dl>", 1)[0]
    counts = dict(re.findall(r'data-level="(\w+)"><dt>[^<]*</dt><dd>(\d+)</dd>', preview))
    assert counts == {"low": "3", "medium": "0", "high": "2"}
    assert 'value="70"' in shown  # the typed weight stays in the form
    assert (weight_settings(), weight_audits()) == (0, 0)
