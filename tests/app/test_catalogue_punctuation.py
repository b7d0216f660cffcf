"""Chinese text in the catalogue uses Chinese punctuation: no ASCII , : ; ( ) ! ? beside a
Chinese character ("31–40 岁: …" should read "31–40 岁：…"). A placeholder stands for Chinese
words (its text comes from the same catalogue or from the dossier); a URL or an example to type
("Content-Type: application/json", "09:30") keeps its ASCII."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

CATALOGUE = (
    Path(__file__).resolve().parents[2] / "crm/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
)
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\([A-Za-z_0-9]+\)[sdfr]|%[sd]|\{[A-Za-z_0-9]*\}")
URL = re.compile(r"https?://\S+")
STANDS_FOR_WORDS = "\ue000"  # a placeholder, once replaced


def misplaced(text: str) -> list[str]:
    """ASCII punctuation beside Chinese text in ``text``, each in its context."""
    if not CJK.search(text):
        return []
    text = PLACEHOLDER.sub(STANDS_FOR_WORDS, URL.sub(" ", text))
    found = []
    for mark in re.finditer(r"[,:;()!?]", text):
        i = mark.start()
        neighbours = (text[:i].rstrip()[-1:], text[i + 1 :].lstrip()[:1])
        if any(c and (CJK.match(c) or c == STANDS_FOR_WORDS) for c in neighbours):
            found.append(text[max(0, i - 12) : i + 12].replace(STANDS_FOR_WORDS, "%(…)s"))
    return found


def test_the_rule_sees_what_it_should():
    assert misplaced("31–40 岁: 共 %(n)d 位")
    assert misplaced("今日 (2)")
    assert misplaced("%(name)s (%(username)s) 已停用")
    assert misplaced("已保存!")
    assert not misplaced("请以 JSON 格式发送（Content-Type: application/json）。")
    assert not misplaced("详见 https://example.com/a,b。")
    assert not misplaced("时间如 09:30，金额如 1,000。")
    assert not misplaced("Only English (here): fine.")


def test_no_chinese_string_carries_ascii_punctuation():
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    bad = {}
    for message in catalogue:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            if found := misplaced(text or ""):
                bad[message.id if isinstance(message.id, str) else message.id[0]] = found
    assert bad == {}


def test_each_message_is_translated_once():
    """A message defined twice makes ``msgfmt --check`` fail and leaves which translation
    wins to the tool that reads it."""
    text = CATALOGUE.read_text(encoding="utf-8")
    keys = re.findall(r'^(?:msgctxt "((?:[^"\\]|\\.)*)"\n)?msgid "((?:[^"\\]|\\.)*)"', text, re.M)
    seen: dict[tuple[str, str], int] = {}
    for key in keys:
        seen[key] = seen.get(key, 0) + 1
    assert {key: n for key, n in seen.items() if n > 1 and key[1]} == {}
