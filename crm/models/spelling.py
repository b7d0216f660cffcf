"""How a customer's name is typed on a keyboard: its pinyin (拼音) and initials (首字母).

张三 is ``zhangsan`` and ``zs``; 曾小明 is ``zengxiaoming`` and ``zxm``, not ``ceng…``: a
surname with two readings is read as a surname (单 Shàn, 曾 Zēng, 解 Xiè, 区 Ōu, 仇 Qiú, …),
which pypinyin does not know. Other characters take pypinyin's first, most common reading,
one character at a time. Latin words keep their letters (Anna Li is ``annali`` and ``al``),
accents and width folded away; punctuation is dropped.

The customer table keeps both beside the name (``name_pinyin``, ``name_initials``) for the
list's search; ``spell`` is the one function that computes them, on every path that writes a
name (the model itself for dossiers, the importer, the demo, the migration that filled them).
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from typing import NamedTuple

PINYIN_LENGTH = 360  # six letters (zhuang) for each of a name's 60 characters
INITIALS_LENGTH = 60

# Surnames read otherwise than the character's most common reading, and compound surnames
# (复姓) whose reading differs from their characters' one by one: toneless, a syllable each.
SURNAMES: dict[str, tuple[str, ...]] = {
    "万俟": ("mo", "qi"),
    "尉迟": ("yu", "chi"),
    "单于": ("chan", "yu"),
    "长孙": ("zhang", "sun"),
    "澹台": ("tan", "tai"),
    "乐正": ("yue", "zheng"),
    "单": ("shan",),
    "曾": ("zeng",),
    "解": ("xie",),
    "区": ("ou",),
    "仇": ("qiu",),
    "查": ("zha",),
    "朴": ("piao",),
    "翟": ("zhai",),
    "盖": ("ge",),
    "乐": ("yue",),
    "覃": ("qin",),
    "缪": ("miao",),
    "召": ("shao",),
    "种": ("chong",),
    "秘": ("bi",),
    "繁": ("po",),
    "重": ("chong",),
    "藏": ("zang",),
    "都": ("du",),
    "六": ("lu",),
    "折": ("she",),
    "粘": ("nian",),
    "隗": ("wei",),
    "员": ("yun",),
    "句": ("gou",),
    "能": ("nai",),
    "薄": ("bo",),
    "卜": ("bu",),
    "阚": ("kan",),
    "长": ("chang",),
    "蔚": ("yu",),
    "祭": ("zhai",),
    "洗": ("xian",),
    "乜": ("nie",),
    "佴": ("nai",),
}
_LONGEST_FIRST = sorted(SURNAMES, key=len, reverse=True)
_TOKEN = re.compile(r"[0-9a-z]+|\S")
_SYLLABLE = re.compile(r"[a-z]+")


class Spelling(NamedTuple):
    pinyin: str  # zhangsan
    initials: str  # zs


def fold(text: str) -> str:
    """Full width to half, accents off, lower case: how both names and queries are compared."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@functools.cache
def _pypinyin():
    # Without its phrase dictionary pypinyin takes some 12 MB instead of 55 MB in every web
    # worker (its FAQ names these two variables); names are read a character at a time anyway.
    # They are read once, when pypinyin is first imported.
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
    os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
    import pypinyin

    return pypinyin


@functools.cache
def _reading(char: str) -> str:
    """A character's most common reading, toneless (吕 → lv), or "" if it has none."""
    pypinyin = _pypinyin()
    readings = pypinyin.lazy_pinyin(char, style=pypinyin.Style.NORMAL, errors=lambda _: [])
    return readings[0] if readings and _SYLLABLE.fullmatch(readings[0]) else ""


def syllables(text: str, *, from_start: bool = True) -> list[str]:
    """The syllables and Latin words of ``text``, in order; ``from_start``: it begins a name,
    so its first characters are read as a surname."""
    text = fold(text).strip()
    found: list[str] = []
    if from_start:
        for surname in _LONGEST_FIRST:
            if text.startswith(surname):
                found.extend(SURNAMES[surname])
                text = text[len(surname) :]
                break
    for token in _TOKEN.findall(text):
        if token.isascii():
            if token.isalnum():  # a Latin word or a number; punctuation is dropped
                found.append(token)
            continue
        reading = _reading(token)
        if reading:
            found.append(reading)
    return found


@functools.lru_cache(maxsize=65536)
def spell(name: str) -> Spelling:
    """``name``'s pinyin and initials, as the customer table stores them."""
    parts = syllables(name)
    return Spelling("".join(parts)[:PINYIN_LENGTH], "".join(p[0] for p in parts)[:INITIALS_LENGTH])
