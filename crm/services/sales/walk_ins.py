"""Walk-in guests at a group event, added as prospects (seed 004's batch acquisition at events,
会议活动获客): one line per guest, a name and a mobile number.

All or nothing: a line without a number, with a number someone already has (a prospect, a
customer, or another line) refuses the whole list, each line's reason said, so that the
staff member fixes the list and sends it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l

from crm.core.inputs import InvalidInput
from crm.models import GroupEvent, Prospect, Staff
from crm.models.enums import Channel
from crm.services.sales import prospects

MAX_GUESTS = 100
# A name and a number, split by a comma of either width, a tab, or spaces before the number.
_LINE = re.compile(r"^\s*(?P<name>.*?)[\s,，、;；]+(?P<phone>[+＋]?[0-9０-９][0-9０-９ ()-]*)\s*$")
_FULL_WIDTH = str.maketrans({chr(0xFF10 + d): str(d) for d in range(10)} | {"＋": "+"})


@dataclass(frozen=True)
class Guest:
    line: int
    name: str
    phone: str


def read_guests(text: str) -> list[Guest]:
    """The guests of a typed list, one a line; a line with no number keeps the number empty
    (the rules then say so for that line)."""
    guests = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        found = _LINE.match(line)
        if found:
            name, phone = found["name"].strip(" ,，、;；"), found["phone"].translate(_FULL_WIDTH)
        else:
            name, phone = line.strip(), ""
        guests.append(Guest(number, name, phone))
    return guests


def add_walk_ins(user: Staff, event: GroupEvent, text: str) -> list[Prospect]:
    """Add the event's walk-in guests as new prospects owned by ``user``, channel "event",
    coming from ``event``; the caller commits. ``InvalidInput`` (nothing written) names
    each refused line."""
    guests = read_guests(text)
    if not guests:
        raise InvalidInput(
            {"walk_in_guests": _l("Write one guest a line: a name and a mobile number.")}
        )
    if len(guests) > MAX_GUESTS:
        raise InvalidInput({"walk_in_guests": _l("At most %(n)d guests at a time.", n=MAX_GUESTS)})
    errors: dict[str, object] = {}
    checked: list[dict] = []
    seen: dict[str, int] = {}
    for guest in guests:
        data = {
            "name": guest.name,
            "phone": guest.phone,
            "channel": Channel.EVENT.value,
            "group_event_id": event.id,
            "owner_id": user.id,
        }
        try:
            values = prospects.clean(user, data)
        except InvalidInput as error:
            errors[f"line {guest.line}"] = _line_message(guest, list(error.errors.values()))
            continue
        if values["phone"] in seen:
            same = _l("The same number as line %(n)d.", n=seen[values["phone"]])
            errors[f"line {guest.line}"] = _line_message(guest, [same])
            continue
        seen[values["phone"]] = guest.line
        checked.append(values)
    if errors:
        raise InvalidInput(errors)
    return [prospects.create_prospect(user, values) for values in checked]


def _line_message(guest: Guest, reasons: list) -> LazyString:
    """ "Line 3 (孙悦): …", in the language of whoever reads it."""
    return LazyString(
        lambda: gettext(
            "Line %(n)d (%(name)s): %(reasons)s",
            n=guest.line,
            name=guest.name or "—",
            reasons=" ".join(str(r) for r in reasons),
        )
    )
