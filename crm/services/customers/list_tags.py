"""The customer list filtered by a tag (``customer_list``): which index it walks, and the
conditions it answers from the tag's links alone.

The bank's list walks ``customer_tag``'s (tag_id, customer_id) newest first and a branch's
its (branch_id, tag_id, customer_id): a tag is then the narrowest condition, and the page
and its total read the links, each customer by id only where another filter needs it. A
staff member's own list (or one owner's) walks the owner's index instead, probing the tag
on each customer, and stops within the owner's customers.
"""

from __future__ import annotations

import sqlalchemy as sa

from crm.models import Customer, customer_tag

# The id of the tag named in the filter, read first (``customer_list._shape``) and bound as a
# value: PostgreSQL then plans for how common that tag is. Looked up inside the statement
# instead (a round trip less), a rare tag's bank list was planned for an average tag and
# walked the whole of ``pk_customer_tag`` backwards (tests/services/customers/test_tag_plans).
TAG_ID = sa.bindparam("tag_id", type_=sa.Integer)

# Filters that narrow a tag's customers without an index of their own per tag.
_ALONGSIDE_A_TAG = {
    *("scope_branch", "scope_none", "branch", "risk", "quadrant", "channel", "churn"),
    *("tier_low", "tier_high"),
}

# What a walk of the links answers from them alone: the tag, and the branch each link
# carries (its customer's own, kept so by the table's key: crm.services.customers.tags).
ON_THE_LINK = {
    "tag": lambda: customer_tag.c.tag_id == TAG_ID,
    "scope_branch": lambda: customer_tag.c.branch_id == sa.bindparam("scope"),
    "branch": lambda: customer_tag.c.branch_id == sa.bindparam("branch"),
}


def walks_tag(shape: tuple[str, ...], sort: str = "") -> bool:
    """Whether a list of this shape walks the tag's links (the bank's or a branch's list,
    newest first) rather than the customers."""
    return not sort and "tag" in shape and set(shape) - {"tag"} <= _ALONGSIDE_A_TAG


def probe() -> sa.ColumnElement[bool]:
    """The tag as a probe of customer_tag's key per customer walked (a staff member's own
    list, a sort's index). OFFSET 0 keeps PostgreSQL from turning the probe into a hash
    join, which reads every customer carrying a common tag to count a staff member's few."""
    return sa.exists(
        sa.select(1)
        .where(customer_tag.c.customer_id == Customer.id, customer_tag.c.tag_id == TAG_ID)
        .offset(sa.literal_column("0"))
    )


def walked(listed: sa.Select) -> sa.Select:
    """``listed`` read from the tag's links, each customer joined by id."""
    return listed.select_from(customer_tag).join(
        Customer, Customer.id == customer_tag.c.customer_id
    )


def counted(others: list[sa.ColumnElement[bool]], on_link: list[str]) -> sa.Select:
    """The ids a walk of the links counts: off the index alone unless ``others`` (conditions
    on the customer) narrow it."""
    matching = sa.select(customer_tag.c.customer_id).where(*(ON_THE_LINK[n]() for n in on_link))
    if others:
        matching = matching.join(Customer, Customer.id == customer_tag.c.customer_id)
    return matching.where(*others)
