"""The prospect pages as staff use them: the list, adding one (a taken number links to its
holder), moving it along, discarding, converting into a dossier that shows where it came
from, walk-in guests from the event page, and who may see what."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Customer, GroupEvent, Prospect
from crm.models.enums import ProspectStatus, Touchpoint
from crm.services.sales import prospects
from tests.support.pages import EN, count, text_of

# Pages, forms and messages over domain code that tests/services runs on both databases;
# nothing here depends on the dialect, so SQLite is enough.
pytestmark = pytest.mark.backends("sqlite")


def new_form(**overrides):
    values = {"name": "孙悦", "phone": "13712345678", "channel": "cold_visit", "notes": "年金"}
    values.update(overrides)
    return values


def add(world, staff=None, **overrides) -> Prospect:
    prospect = prospects.create_prospect(staff or world.alice, new_form(**overrides))
    db.session.commit()
    return prospect


@pytest.mark.parametrize("headers", [{}, EN], ids=["zh", "en"])
def test_pages_render_in_both_languages_with_phones_masked(world, auth, headers):
    prospect = add(world)
    auth.login("alice")
    listing = auth.client.get("/prospects", headers=headers).get_data(as_text=True)
    assert "孙悦" in listing and "137****5678" in listing and "13712345678" not in listing
    for url in ("/prospects/new", f"/prospects/{prospect.id}", f"/prospects/{prospect.id}/edit"):
        response = auth.client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert "13712345678" not in response.get_data(as_text=True)
    if headers:
        assert "Mark as Contacted" in auth.client.get(
            f"/prospects/{prospect.id}", headers=headers
        ).get_data(as_text=True)


def test_prospects_outside_ones_scope_do_not_exist(world, auth):
    prospect = add(world)
    for who, status in (("bob", 404), ("carol", 404), ("manager", 200), ("admin", 200)):
        auth.login(who)
        assert auth.client.get(f"/prospects/{prospect.id}").status_code == status, who
        assert auth.client.get(f"/prospects/{prospect.id}/edit").status_code == status, who
        moved = auth.client.post(
            f"/prospects/{prospect.id}/status",
            data={"status": "contacted", "version": prospect.version},
        )
        if status == 404:
            assert moved.status_code == 404
        auth.logout()
    db.session.expire_all()
    assert db.session.get(Prospect, prospect.id).status == ProspectStatus.CONTACTED


def test_a_taken_number_is_refused_with_a_link_to_who_has_it(world, auth):
    first = add(world)
    auth.login("alice")
    before = count(Prospect)
    page = auth.client.post("/prospects/new", data=new_form(name="孙月"), headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"Prospect #{first.id} already has this phone number." in html
    assert f'href="/prospects/{first.id}"' in html
    page = auth.client.post("/prospects/new", data=new_form(phone="13800001111"), headers=EN)
    html = page.get_data(as_text=True)
    assert f'href="/customers/{world.alice_customer.id}"' in html
    assert count(Prospect) == before


def test_add_move_discard_and_reopen_from_the_pages(world, auth):
    auth.login("alice")
    response = auth.client.post("/prospects/new", data=new_form())
    prospect = db.session.scalar(sa.select(Prospect))
    assert response.headers["Location"].endswith(f"/prospects/{prospect.id}")
    url = f"/prospects/{prospect.id}/status"
    auth.client.post(url, data={"status": "contacted", "version": 1})
    refused = auth.client.post(url, data={"status": "discarded", "version": 2}, headers=EN)
    assert "Say why the prospect is discarded." in refused.get_data(as_text=True)
    assert count(Prospect) == 1
    db.session.expire_all()
    assert db.session.get(Prospect, prospect.id).status == ProspectStatus.CONTACTED
    auth.client.post(url, data={"status": "discarded", "version": 2, "discard_reason": "无意向"})
    page = auth.client.get(f"/prospects/{prospect.id}", headers=EN).get_data(as_text=True)
    assert "无意向" in page and "Reopen" in page
    stale = auth.client.post(url, data={"status": "new", "version": 2}, headers=EN)
    assert "Someone else changed this prospect" in stale.get_data(as_text=True)
    auth.client.post(url, data={"status": "new", "version": 3})
    db.session.expire_all()
    assert db.session.get(Prospect, prospect.id).status == ProspectStatus.NEW


def test_conversion_opens_a_dossier_that_shows_the_prospect_and_its_history(world, auth):
    prospect = add(world)
    for step in ("contacted", "qualified"):
        prospects.move_prospect(world.alice, prospect, step, prospect.version)
        db.session.commit()
    auth.login("alice")
    form = auth.client.get(f"/prospects/{prospect.id}/convert", headers=EN)
    html = form.get_data(as_text=True)
    assert 'value="孙悦"' in html and "137****5678" in html
    response = auth.client.post(
        f"/prospects/{prospect.id}/convert",
        data={
            "name": "孙悦",
            "gender": "female",
            "liquid_assets": "300000",
            "willingness": "70",
            "risk_level": "R2",
            "channel": "cold_visit",
            "owner_id": str(world.alice.id),
            "branch_id": str(world.east.id),
            "notes": "年金",
            "prospect_version": str(prospect.version),
        },
    )
    customer = db.session.scalar(sa.select(Customer).where(Customer.name == "孙悦"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/customers/{customer.id}")
    dossier = auth.client.get(f"/customers/{customer.id}", headers=EN).get_data(as_text=True)
    assert f'href="/prospects/{prospect.id}"' in dossier
    assert f"Prospect #{prospect.id}: Prospect status" in text_of(dossier)
    assert "Qualified" in dossier
    # Converted: the prospect page points at the dossier and offers no more moves.
    page = auth.client.get(f"/prospects/{prospect.id}", headers=EN).get_data(as_text=True)
    assert f'href="/customers/{customer.id}"' in page and "Discard" not in page


def event_of(world) -> GroupEvent:
    event = GroupEvent(
        category=Touchpoint.EVENT,
        title="客户联谊会",
        held_on=local_today() - timedelta(days=1),
        place="城东支行",
        capacity=30,
        total_cost=Decimal("3000.00"),
        branch=world.east,
        organiser_id=world.manager.id,
    )
    db.session.add(event)
    db.session.commit()
    return event


def test_walk_in_guests_are_added_from_the_event_page(world, auth):
    event = event_of(world)
    auth.login("bob")
    page = auth.client.get(f"/events/{event.id}", headers=EN).get_data(as_text=True)
    assert "Walk-in guests" in page
    url = f"/events/{event.id}/walk-ins"
    refused = auth.client.post(url, data={"walk_in_guests": "王敏 13912345678\n赵强"}, headers=EN)
    assert "Line 2 (赵强): Enter a mobile phone number." in refused.get_data(as_text=True)
    assert count(Prospect) == 0
    response = auth.client.post(url, data={"walk_in_guests": "王敏 13912345678\n赵强 13600012222"})
    assert response.status_code == 302
    made = db.session.scalars(sa.select(Prospect).order_by(Prospect.id)).all()
    assert [(p.name, p.group_event_id, p.owner_id) for p in made] == [
        ("王敏", event.id, world.bob.id),
        ("赵强", event.id, world.bob.id),
    ]
    auth.logout()
    auth.login("carol")  # another branch: not her event
    assert auth.client.post(url, data={"walk_in_guests": "李雷 13512340000"}).status_code == 404


def test_the_chinese_pages_read_as_chinese(world, auth):
    from tests.views.test_chinese_text import ZH, ascii_punctuation_by_chinese

    prospect = add(world, referred_by_id=world.alice_customer.id)
    prospects.move_prospect(world.alice, prospect, "contacted", prospect.version)
    prospects.move_prospect(world.alice, prospect, "qualified", prospect.version)
    db.session.commit()
    event = event_of(world)
    auth.login("alice")
    urls = ["/prospects", "/prospects/new", f"/prospects/{prospect.id}", f"/events/{event.id}"]
    urls += [f"/prospects/{prospect.id}/edit", f"/prospects/{prospect.id}/convert"]
    for url in urls:
        page = auth.client.get(url, headers=ZH).get_data(as_text=True)
        assert ascii_punctuation_by_chinese(text_of(page)) == [], url
    refused = auth.client.post(
        f"/events/{event.id}/walk-ins", data={"walk_in_guests": "赵强"}, headers=ZH
    ).get_data(as_text=True)
    assert "第 1 行（赵强）：请填写手机号码。" in refused


def test_a_conversion_whose_number_a_dossier_took_meanwhile_says_so(world, auth):
    prospect = add(world)
    for step in ("contacted", "qualified"):
        prospects.move_prospect(world.alice, prospect, step, prospect.version)
        db.session.commit()
    # A dossier opened by hand with the prospect's number, after the prospect was added.
    world.bob_customer.phone = "+8613712345678"
    db.session.commit()
    auth.login("alice")
    page = auth.client.post(
        f"/prospects/{prospect.id}/convert",
        data={
            "name": "孙悦",
            "gender": "female",
            "liquid_assets": "0",
            "willingness": "30",
            "risk_level": "R1",
            "owner_id": str(world.alice.id),
            "branch_id": str(world.east.id),
            "prospect_version": str(prospect.version),
        },
        headers=EN,
    )
    assert page.status_code == 200
    assert "Another dossier already has this phone number." in page.get_data(as_text=True)
    assert count(Customer) == 3
    db.session.expire_all()
    assert db.session.get(Prospect, prospect.id).status == ProspectStatus.QUALIFIED


def test_the_list_pages_newest_first_and_filters_by_status(world, auth, settings):
    settings(CRM_PAGE_SIZE=2)
    made = [add(world, name=f"客户{n}", phone=f"1371234000{n}") for n in range(3)]
    prospects.move_prospect(world.alice, made[0], "contacted", made[0].version)
    db.session.commit()
    auth.login("alice")
    first = auth.client.get("/prospects", headers=EN).get_data(as_text=True)
    assert "客户2" in first and "客户1" in first and "客户0" not in first
    assert f"before={made[1].id}" in first
    older = auth.client.get(f"/prospects?before={made[1].id}").get_data(as_text=True)
    assert "客户0" in older and "客户1" not in older and 'rel="next"' not in older
    contacted = auth.client.get("/prospects?status=contacted").get_data(as_text=True)
    assert "客户0" in contacted and "客户2" not in contacted
