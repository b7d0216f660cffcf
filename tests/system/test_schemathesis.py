"""The API against its own OpenAPI description: schemathesis generates requests from the
description at /api/v1/openapi.json (valid ones and deliberately broken ones) and holds every
answer to every check it has: no server error; status code, content type, headers and body
as described; broken requests refused and valid ones accepted; no access without a token.

A valid request may still break a rule of the domain (a phone number already on file, a date
before the dossier was opened, a budget, a list's date filter in the year 9999): that is a 422
the description promises, and a positive case answered 422 must have reached such a rule,
never been refused by the reading of the request. Updates that name no version are answered
428, as described. Every error answers in the language asked for (zh-CN here).

The world is seeded with a row of every kind, so that reads find some, and the clock stands
still, so that the description's examples stay valid requests. The runs are bounded
(``EXAMPLES`` per operation and mode) so that they stay short on both databases.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import schemathesis
import sqlalchemy as sa
from flask import request
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from crm.api import errors
from crm.core.clock import frozen, local_today
from crm.extensions import db
from crm.models import Customer, Policy
from crm.models.enums import PaymentMode, ProductType
from crm.services.customers import dossier
from crm.services.experiences import plans
from crm.services.sales import opportunities, prospects

EXAMPLES = 20
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
OPENED = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # before every date the examples name
DEFAULTS = {"gender": "female", "risk_level": "R2", "willingness": 30, "liquid_assets": 0}
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis' default
CONFIG = {
    # The first section that names an operation is the one that counts.
    "operations": [
        {
            "include-name": [
                "PATCH /api/v1/customers/{customer_id}",
                "PATCH /api/v1/policies/{policy_id}",
                "POST /api/v1/experiences/{experience_id}/record",
                "PATCH /api/v1/prospects/{prospect_id}",
                "PATCH /api/v1/opportunities/{opportunity_id}",
                "POST /api/v1/opportunities/{opportunity_id}/stage",
            ],
            "checks": {
                "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422", "428"]}
            },
        },
        {
            # A list's date filter outside the calendar (inputs.date_refusal) is refused.
            "include-name": ["GET /api/v1/experiences", "GET /api/v1/quadrant-events"],
            "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
        },
        {
            "include-method": ["POST", "PATCH"],
            "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
        },
    ],
}
OPERATIONS = [
    "GET /api/v1/customers",
    "POST /api/v1/customers",
    "GET /api/v1/customers/{customer_id}",
    "PATCH /api/v1/customers/{customer_id}",
    "GET /api/v1/policies",
    "POST /api/v1/customers/{customer_id}/policies",
    "GET /api/v1/policies/{policy_id}",
    "PATCH /api/v1/policies/{policy_id}",
    "GET /api/v1/experiences",
    "POST /api/v1/customers/{customer_id}/experiences",
    "GET /api/v1/experiences/{experience_id}",
    "POST /api/v1/experiences/{experience_id}/record",
    "GET /api/v1/quadrant-events",
    "GET /api/v1/quadrant-events/{event_id}",
    "GET /api/v1/customers/{customer_id}/suggestions",
    "GET /api/v1/prospects",
    "POST /api/v1/prospects",
    "GET /api/v1/prospects/{prospect_id}",
    "PATCH /api/v1/prospects/{prospect_id}",
    "GET /api/v1/experiments",
    "GET /api/v1/opportunities",
    "POST /api/v1/opportunities",
    "GET /api/v1/opportunities/{opportunity_id}",
    "PATCH /api/v1/opportunities/{opportunity_id}",
    "POST /api/v1/opportunities/{opportunity_id}/stage",
]
CHINESE = re.compile("[\u4e00-\u9fff]")
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure reproduces
    database=None,
    suppress_health_check=list(HealthCheck),
)


def every_check() -> list:
    """Every check schemathesis has, not only the default few."""
    load_all_checks()
    return list(CHECKS.get_all())


@pytest.fixture
def seeded(world):
    """A row behind every resource with id 1 (the id the description's examples use), each
    at version 1, all within the reach of alice and of the branch manager; the clock stopped
    at ``NOW``, the world's dossiers opened at ``OPENED``."""
    with frozen(NOW):
        # Not through the ORM, which would count it as a revision (version 2).
        db.session.execute(sa.update(Customer).values(created_at=OPENED))
        db.session.add(
            Policy(
                customer=world.alice_customer,
                policy_number="GS-1",
                product_name="安康终身",
                product_type=ProductType.WHOLE_LIFE,
                premium=Decimal("12000.00"),
                payment_mode=PaymentMode.SINGLE,
                start_date=date(2023, 5, 1),
                version=1,
            )
        )
        plans.add_experience(
            world.manager, world.alice_customer, {"category": "visit", "due_on": local_today()}
        )
        # Opened through the domain: placed in its quadrant, so quadrant event 1 exists.
        dossier.create_customer(world.alice, {"name": "周敏", "phone": "13912345678"} | DEFAULTS)
        prospects.create_prospect(
            world.alice, {"name": "孙悦", "phone": "13712345678", "channel": "event"}
        )
        opportunities.open_opportunity(
            world.alice,
            world.alice_customer,
            {
                "product_id": 1,
                "expected_premium": "50000.00",
                "payment_mode": "regular",
                "expected_close_on": "2026-12-31",
            },
        )
        db.session.commit()
        yield world


def described(app, *, tokens: bool):
    """The description as schemathesis reads it; with ``tokens``, the Authorization header is
    a parameter of every operation (the boundaries then include requests without it)."""
    config = CONFIG | {"generation": {"with-security-parameters": tokens}}
    return schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", app, config=schemathesis.Config.from_dict(config)
    )


@pytest.fixture
def description(app):
    """Requests are drawn without a token of their own: the caller's is sent with each
    (``headers_for``), and ignored_auth probes without it and with a wrong one."""
    return described(app, tokens=False)


@pytest.fixture
def refused_by_rules(monkeypatch) -> set[str]:
    """The cases (by the id schemathesis sends with each) that a rule of the domain refused."""
    refused: set[str] = set()
    refuse = errors.refuse

    def noting(error):
        refused.add(request.headers.get("X-Schemathesis-TestCaseId"))
        refuse(error)

    monkeypatch.setattr(errors, "refuse", noting)
    return refused


def drawn(strategy, exercise) -> None:
    """``exercise`` every case Hypothesis draws from ``strategy`` (``EXAMPLES`` at most)."""

    @given(case=strategy)
    @SETTINGS
    def each(case):
        exercise(case)

    each()


def headers_for(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}


def read_not_refused(refused: set[str]):
    """A valid request answered 422 broke a rule of the domain: its reading took it."""

    def check(ctx, response, case):
        positive = case.meta is not None and case.meta.generation.mode.is_positive
        if positive and response.status_code == 422 and case.id not in refused:
            raise AssertionError(f"A valid request was refused as unreadable: {response.text}")

    check.__name__ = read_not_refused.__name__
    return check


def answers_in_chinese(ctx, response, case):
    """Every message of an error answer is in the language asked for."""
    if response.status_code >= 400:
        body = response.json()
        texts = [body["message"], *(body.get("errors") or {}).values()]
        untranslated = [text for text in texts if not CHINESE.search(text)]
        assert not untranslated, f"Answered in another language: {untranslated}"


# Each operation's cases are sent from here, as schemathesis documents for custom workflows:
# its pytest loader (schemathesis.pytest.from_fixture) does not run under pytest 9, and its
# engine passes a redirect limit that a WSGI app's test client does not take.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("holder", ["alice", "manager"])
def test_api_matches_its_description(
    app, seeded, description, token_for, refused_by_rules, holder, mode
):
    headers = headers_for(token_for(getattr(seeded, holder)))
    ours = [read_not_refused(refused_by_rules), answers_in_chinese]

    def exercise(case):
        case.call_and_validate(headers=headers, checks=every_check(), additional_checks=ours)

    boundaries = described(app, tokens=True)
    operations = [result.ok() for result in description.get_all_operations()]
    assert [operation.label for operation in operations] == OPERATIONS
    for operation, bounded in zip(operations, boundaries.get_all_operations(), strict=True):
        # The boundaries first (missing and empty values, every enum value, the limits,
        # methods not described), as the schemathesis command runs them, then requests
        # drawn by Hypothesis.
        generation = boundaries.config.generation_for(operation=operation, phase="coverage")
        for case in boundaries.iter_coverage_cases(
            bounded.ok(), generation_modes=[mode], generation_config=generation
        ):
            exercise(case)
        strategies = [operation.as_strategy(mode)]
        if mode == GenerationMode.POSITIVE:
            strategies += description.get_strategies_from_examples(operation)
        for strategy in strategies:
            drawn(strategy, exercise)


@pytest.mark.parametrize("holder", ["alice", "manager"])
def test_workflows_across_operations(seeded, description, token_for, refused_by_rules, holder):
    """Sequences of calls, each taking ids from the answers before it (links schemathesis
    infers from the description), so that the checks over a sequence run too: a resource
    just created is found where its answer says."""
    headers = headers_for(token_for(getattr(seeded, holder)))
    ours = [read_not_refused(refused_by_rules), answers_in_chinese]

    class Workflow(description.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                checks=every_check(),
                additional_checks=ours,
                headers=headers,
                transport_kwargs=kwargs,
                recorder=self.recorder,
            )

    Workflow.run(settings=settings(SETTINGS, stateful_step_count=5))


# List reads take no example; every other operation has one.
@pytest.mark.parametrize(
    "label", [op for op in OPERATIONS if not op.startswith("GET") or "{" in op]
)
def test_the_examples_are_requests_the_api_accepts(seeded, description, token_for, label):
    """The description's examples, each sent once to a fresh world, are accepted as they are."""
    headers = headers_for(token_for(seeded.manager))
    (operation,) = [r.ok() for r in description.get_all_operations() if r.ok().label == label]
    (strategy,) = description.get_strategies_from_examples(operation)

    @given(case=strategy)
    @settings(SETTINGS, max_examples=1)
    def send(case):
        response = case.call(headers=headers)
        assert response.status_code < 300, response.text

    send()
