"""The interface speaks Chinese and English: the staff member's choice, else the browser's."""

import pytest

# Pages, forms and messages over domain code that tests/services runs on both databases;
# nothing here depends on the dialect, so SQLite is enough.
pytestmark = pytest.mark.backends("sqlite")


def test_browser_language_picks_the_interface(client, world):
    zh = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    en = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "登录" in zh and 'lang="zh-CN"' in zh
    assert "Log in" in en and 'lang="en"' in en


def test_without_a_preference_the_default_is_chinese(client, world):
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_switching_language_is_remembered_for_the_user(auth, world, app):
    auth.login("alice")
    auth.client.post("/language", data={"language": "en", "next": "/customers"})
    page = auth.client.get("/customers", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert "Customers" in page and "New dossier" in page
    auth.client.post("/language", data={"language": "zh_CN"})
    page = auth.client.get("/customers", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "新建档案" in page


def test_a_change_of_language_is_audited_as_other_staff_changes_are(auth, world):
    import sqlalchemy as sa

    from crm.extensions import db
    from crm.models import AuditLog

    auth.login("alice")
    auth.client.post("/language", data={"language": "en"})
    auth.client.post("/language", data={"language": "en"})  # no change, nothing recorded
    auth.client.post("/language", data={"language": "xx"})  # not spoken, nothing recorded
    rows = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.entity == "staff", AuditLog.field == "language")
    ).all()
    assert [(r.actor_id, r.entity_id, r.old_value, r.new_value) for r in rows] == [
        (world.alice.id, world.alice.id, None, "en")
    ]


def test_dossier_uses_the_trade_terms_in_chinese(auth, world):
    auth.login("alice")
    page = auth.client.get(
        f"/customers/{world.alice_customer.id}", headers={"Accept-Language": "zh-CN"}
    ).get_data(as_text=True)
    for term in ("流动资产", "意愿", "风险等级", "保单", "获客渠道"):
        assert term in page, term


def test_error_pages_are_friendly_and_translated(auth, world):
    auth.login("alice")
    response = auth.client.get("/customers/424242", headers={"Accept-Language": "zh-CN"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Traceback" not in page and "返回" in page


def test_browser_asking_for_plain_zh_gets_chinese(client, world):
    page = client.get("/login", headers={"Accept-Language": "zh;q=0.9, en;q=0.5"})
    assert "登录" in page.get_data(as_text=True)
    page = client.get("/login", headers={"Accept-Language": "fr-FR, en;q=0.5"})
    assert "Log in" in page.get_data(as_text=True)


def test_pages_alternate_languages_without_mixing_them(auth, world):
    """Templates are compiled once per language with their fixed texts translated in; the
    same page asked for in turn in each language is wholly in that language every time."""
    auth.login("alice")
    url = f"/customers/{world.alice_customer.id}"
    for language, mine, other in [
        ("zh-CN", "基本信息", "Profile"),
        ("en", "Profile", "基本信息"),
    ] * 2:
        page = auth.client.get(url, headers={"Accept-Language": language}).get_data(as_text=True)
        assert mine in page and other not in page, language
        assert ("退出登录" in page) == (language == "zh-CN")  # the layout (base.html) too


def test_fixed_texts_fold_as_gettext_would_give_them(app):
    from flask_babel import force_locale

    source = (
        "{{ _('Profile') }}|{{ _('Log out') ~ '!' }}|{{ _('100%% sure') }}"
        "|{{ _('as of %(d)s', d='<b>') }}|{{ _('<i>') }}"
    )
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        zh = app.jinja_env.localised().from_string(source).render()
        # Translated when compiled: the page's code holds the text, and calls no gettext for it.
        code = app.jinja_env.localised().compile("{{ _('Profile') }}", raw=True)
        assert "基本信息" in code and "gettext" not in code
        with force_locale("en"):
            en = app.jinja_env.localised().from_string(source).render()
    # Translated, %% read as %, variables still escaped, and a fixed text as safe as gettext's.
    assert zh.split("|")[:3] == ["基本信息", "退出登录!", "100% sure"]
    assert "&lt;b&gt;" in zh.split("|")[3] and zh.split("|")[4] == "<i>"
    assert en.split("|")[:3] == ["Profile", "Log out!", "100% sure"]
