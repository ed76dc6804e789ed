"""Folding agency names so that one name written several ways compares equal.

Reports and users write the same agency in simplified or traditional characters, with
full- or half-width letters, digits and brackets, and with stray spaces from line
wrapping. A *folded* name is the simplified, NFKC-normalised, lower-cased name with all
whitespace removed; search, coverage and slugs all compare folded names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from opencc import OpenCC

_WHITESPACE = re.compile(r"\s+")


@lru_cache(maxsize=2)
def _converter(config: str) -> OpenCC:
    return OpenCC(config)


@lru_cache(maxsize=65536)
def fold_name(name: str) -> str:
    """The comparison form of an agency name: 繁→简, full→half width, no whitespace."""
    # NFKC turns full-width ASCII (Ａ１（) into half width and U+3000 into a plain space.
    width_folded = unicodedata.normalize("NFKC", name)
    simplified = _converter("t2s").convert(width_folded)
    return _WHITESPACE.sub("", simplified).lower()


def traditional_to_simplified_map(folded_names: Iterable[str]) -> dict[str, str]:
    """Traditional → simplified characters for every character used in these names.

    The search page folds the visitor's query in JavaScript, which has no OpenCC; this
    small table (only characters that occur in the index) lets it fold 繁→简 exactly as
    the server folded the names.
    """
    characters = sorted({ch for name in folded_names for ch in name if ord(ch) > 0x2E7F})
    to_traditional = _converter("s2t")
    mapping: dict[str, str] = {}
    for simplified in characters:
        for traditional in to_traditional.convert(simplified):
            if traditional != simplified and fold_name(traditional) == simplified:
                mapping[traditional] = simplified
    return mapping
