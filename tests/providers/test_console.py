"""The console provider after a writer was killed mid-line: the fragment is no message, and
the next writer's lines stay whole."""

from __future__ import annotations

import json

from crm.providers.base import LookupResult
from crm.providers.console import ConsoleProvider


def test_a_killed_writers_fragment_is_no_message_and_later_lines_stay_whole(tmp_path):
    path = tmp_path / "sms.jsonl"
    first = ConsoleProvider(path)
    first.send("+8613800001111", "您好", "experience:1")
    first.close()
    whole = json.dumps(
        {"id": "x", "key": "experience:2", "to": "+86139", "body": "您好"}, ensure_ascii=False
    )
    # What a kill between two pages of a write leaves: the line cut, inside a character even.
    cut = whole.encode()[: whole.encode().index("您".encode()) + 1]
    with open(path, "ab") as f:
        f.write(cut)

    after = ConsoleProvider(path)
    assert [m["key"] for m in after.sent()] == ["experience:1"]
    assert after.lookup("experience:2", "+86139").result == LookupResult.NOT_SENT
    after.send("+8613900002222", "再次", "experience:2")  # sent again, as the dispatcher would
    after.close()

    assert [m["key"] for m in ConsoleProvider(path).sent()] == ["experience:1", "experience:2"]
    assert ConsoleProvider(path).lookup("experience:2", "+86139").result == LookupResult.SENT
    last = path.read_bytes().split(b"\n")[-2]
    assert json.loads(last)["body"] == "再次"  # on a line of its own, not glued to the fragment
