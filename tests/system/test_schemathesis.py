"""The API against its own OpenAPI description: schemathesis generates requests from the
description at /api/v1/openapi.json (valid ones and deliberately broken ones) and checks
that no answer is a server error and every answer matches what the description promises.

The world is seeded with a row of every kind, so that reads find some; the token is the
branch manager's. The number of examples per operation is bounded so that the run stays
short on both databases.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import Policy
from crm.models.enums import PaymentMode, ProductType
from crm.services.customers import dossier
from crm.services.experiences import recording

EXAMPLES = 20
DEFAULTS = {"gender": "female", "risk_level": "R2", "willingness": 30, "liquid_assets": 0}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    ignored_auth,
]


@pytest.fixture
def seeded(world):
    """A row behind every resource with id 1 (the id the description's examples use), each
    at version 1, all within the branch manager's scope."""
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
    recording.add_experience(
        world.manager, world.alice_customer, {"category": "visit", "due_on": local_today()}
    )
    # Opened through the domain: placed in its quadrant, so quadrant event 1 exists.
    dossier.create_customer(world.manager, {"name": "周敏", "phone": "13912345678"} | DEFAULTS)
    db.session.commit()
    return world


@pytest.fixture
def manager_token(seeded, token_for) -> str:
    return token_for(seeded.manager)


# The pytest plugin's lazy loader (schemathesis.pytest.from_fixture) does not run under
# pytest 9 ("'Function' object has no attribute '_nodeid'"), so each operation's strategies
# are driven by Hypothesis directly, as schemathesis documents for custom workflows.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_matches_its_description(app, manager_token, mode):
    description = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in description.get_all_operations()]
    assert len(operations) == 14
    auth = {"Authorization": f"Bearer {manager_token}"}
    for operation in operations:
        strategies = [operation.as_strategy(mode, headers=auth)]
        if mode == GenerationMode.POSITIVE:
            # The description's examples: requests the domain accepts, so that successful
            # answers (201 with a Location, 200 after an update) are checked too.
            strategies += description.get_strategies_from_examples(operation)
        for strategy in strategies:
            exercise(strategy, auth)


def exercise(strategy, auth: dict) -> None:
    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same requests on every run: a failure reproduces
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        case.headers = {**(case.headers or {}), **auth}
        case.call_and_validate(checks=CHECKS)

    call()
