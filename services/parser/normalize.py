"""Text normalisation shared by every reader: the matching rule of spec §3.3.

Labels are compared after this normalisation only, so every variant that differs from the
template by whitespace, width, brackets, item-number punctuation or script (繁/简) is the
same label; anything else is a real difference the matcher has to judge.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import opencc
from opencc import OpenCC

# One converter for the process: building it loads the dictionaries (tens of ms).
_T2S = OpenCC("t2s")


def _traditional_characters() -> frozenset[str]:
    """Every character OpenCC's t2s table changes; text without any is already simplified."""
    table = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    return frozenset(line.split("\t", 1)[0] for line in table.read_text(encoding="utf-8").splitlines() if line)


_TRADITIONAL = _traditional_characters()

# Taiwan-vocabulary conversions seen on mirror sites (§8) that t2s does not undo.
_VOCABULARY = (("檔案", "文件"), ("製作", "制作"), ("檔", "档"))

_WHITESPACE = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")
# Quotes of every kind are dropped: “三安全一稳定” = "三安全一稳定" = 「三安全一稳定」.
_QUOTES = re.compile(r"[\"'“”‘’「」『』]")
_BRACKETS = str.maketrans(
    {"【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")", "﹙": "(", "﹚": ")"}
)
# "1、" "1." "1．" "1," after NFKC all become "1." when they number an item.
_ITEM_NUMBER = re.compile(r"^(\(?[0-9]{1,2}\)?)[、.,:]")
_CJK = re.compile(r"[\u3400-\u9fff]")
# Pinyin after an ideograph on annotated mirror pages: "公(gōng)開", "申（shēn）请".
_PINYIN = re.compile(r"(?<=[\u3400-\u9fff])\s?[(（]\s?[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]{1,7}[1-5]?\s?[)）]")


def strip_pinyin(text: str) -> str:
    """Remove the pinyin a mirror site printed after each character (§8)."""
    return _PINYIN.sub("", text) if "(" in text or "（" in text else text


def squeeze(text: str) -> str:
    """Remove every kind of whitespace (also U+3000, U+00A0, zero-width space)."""
    return _WHITESPACE.sub("", text)


def to_simplified(text: str) -> str:
    """繁→简 plus the Taiwan-vocabulary fixes.

    Most reports are simplified already; OpenCC's pure-Python conversion was 40 % of a
    parse, so text without a single traditional character skips it.
    """
    if _TRADITIONAL.isdisjoint(text):
        return text
    for old, new in _VOCABULARY:
        text = text.replace(old, new)
    converted = _T2S.convert(text)
    for old, new in _VOCABULARY:
        converted = converted.replace(old, new)
    return converted


def width_fold(text: str) -> str:
    """Full-width digits, letters and punctuation to their ASCII forms (NFKC)."""
    return unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=8192)
def label_key(text: str) -> str:
    """The comparison form of a label or header (cached: the same labels recur in every report)."""
    folded = squeeze(width_fold(text))
    folded = _QUOTES.sub("", folded).translate(_BRACKETS)
    folded = to_simplified(folded)
    folded = _ITEM_NUMBER.sub(lambda m: m.group(1) + ".", folded)
    # 、 and , separate clauses inside labels interchangeably ("逾期不补正, 行政机关").
    folded = folded.replace("、", ",").replace(";", ",")
    return folded.rstrip(":,")


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None
