"""The template's row labels and how a printed label is matched to them (spec §3.2–3.6).

Every label is compared in `label_key` form. A match has a *quality*:

* ``exact``    – the template text or an accepted variant: nothing to report;
* ``fragment`` – a piece of the template text (a label split by extraction, a truncation):
                 extraction damage, recorded with lower confidence but no finding;
* ``altered``  – recognised only by similarity or as a known alteration: mapped, and the
                 table raises TBL-HEADER-ALTERED.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Literal

from services.parser.normalize import label_key
from shared.report import T3_ROW_LABELS

Quality = Literal["exact", "fragment", "altered"]

# --- Table 三 rows: exact template text in shared.report.T3_ROW_LABELS (§3.3) ----
# Accepted variants (no finding): observed wordings of the same label.
T3_ROW_VARIANTS: dict[str, tuple[str, ...]] = {
    "denied_law_forbidden": ("2.其他法律法规禁止公开",),
    "partial": ("（二）部分公开",),
    "total_processed": ("总计",),
}
# Group labels (merged cells that carry no numbers). "other" doubles as the single v2019 row.
T3_GROUP_LABELS: dict[str, str] = {
    "results": "三、本年度办理结果",
    "denied": "（三）不予公开",
    "unable": "（四）无法提供",
    "ignored": "（五）不予处理",
    "other": "（六）其他处理",
}
T3_GROUP_VARIANTS: dict[str, tuple[str, ...]] = {"other": ("（六）其他",)}

# Rows that belong to each group, used to prefer the right "1.…" item.
T3_GROUP_OF_ROW: dict[str, str] = {
    **{r: "denied" for r in T3_ROW_LABELS if r.startswith("denied_")},
    **{r: "unable" for r in T3_ROW_LABELS if r.startswith("unable_")},
    **{r: "ignored" for r in T3_ROW_LABELS if r.startswith("ignored_")},
    **{r: "other" for r in T3_ROW_LABELS if r.startswith("other_")},
}

# --- Table 三 column headers ----------------------------------------------------
T3_COLUMN_LABELS: dict[str, tuple[str, ...]] = {
    "natural": ("自然人",),
    "org_business": ("商业企业",),
    "org_research": ("科研机构",),
    "org_ngo": ("社会公益组织", "社会公益"),
    "org_legal": ("法律服务机构",),
    "org_other": ("其他",),
    "total": ("总计",),
}

# --- Table 二 rows and headers -------------------------------------------------
T2_ROW_LABELS: dict[str, tuple[str, ...]] = {
    "rules": ("规章",),
    "normative": ("行政规范性文件",),
    "license": ("行政许可",),
    "other_service": ("其他对外管理服务事项",),
    "penalty": ("行政处罚",),
    "coercion": ("行政强制",),
    "fee": ("行政事业性收费",),
    "procurement": ("政府集中采购",),
    "other_docs": ("其他主动公开文件",),
}
T2_V2021_HEADERS = ("本年制发件数", "本年废止件数", "现行有效件数")
T2_V2019_HEADERS = ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量")
T2_KNOWN_HEADERS = (
    *T2_V2021_HEADERS,
    *T2_V2019_HEADERS,
    "信息内容",
    "本年处理决定数量",
    "本年收费金额（单位：万元）",
    "本年收费金额（单位：万元，保留4位小数）",
    "本年增/减",
    "处理决定数量",
    "采购项目数量",
    "采购总金额",
)

_ITEM_PREFIX = re.compile(r"^(?:\(?[0-9]{1,2}\)?\.|\([一二三四五六七八九十]+\)|[一二三四五六七八九十]+,)")


@dataclass(frozen=True)
class LabelMatch:
    key: str
    quality: Quality


def strip_item_number(key: str) -> str:
    return _ITEM_PREFIX.sub("", key)


def _build(labels: dict[str, str], variants: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(label_key(t) for t in (v, *variants.get(k, ()))) for k, v in labels.items()}


_T3_ROWS = _build(T3_ROW_LABELS, T3_ROW_VARIANTS)
_T3_GROUPS = _build(T3_GROUP_LABELS, T3_GROUP_VARIANTS)
_T2_ROWS = {k: tuple(label_key(t) for t in v) for k, v in T2_ROW_LABELS.items()}

# Template alterations seen in real reports, mapped but flagged (§3.3, §6.1).
_T3_KNOWN_ALTERATIONS = {label_key("2.其他法律行政止公开"): "denied_law_forbidden"}

_T3_ROW_CORES = {row: tuple(strip_item_number(f) for f in forms) for row, forms in _T3_ROWS.items()}
_SIMILAR = 0.8  # a reworded label keeps this much of the template's text (SequenceMatcher ratio)
_MIN_FRAGMENT = 4  # shorter pieces ("开申请") match too many labels to mean anything
# Where an item label starts inside a longer key: "（三）不4.保护第三方合法权益" → "4.保护…".
_INNER_ITEM_START = re.compile(r"(?<=[^0-9.])(?:[0-9]{1,2}[.,](?=[^0-9])|\([一二三四五六七]\))")
_MAX_DEBRIS = 14


def match_t3_row(text: str) -> list[LabelMatch]:
    """Every table-三 row this label can be, best quality first (ties keep template order)."""
    return list(_match_t3_key(label_key(text), text))


@lru_cache(maxsize=8192)
def _match_t3_key(key: str, text: str) -> tuple[LabelMatch, ...]:
    # Cached: a season's reports repeat the same few hundred labels, and each line of a
    # dumped table is asked about by the section splitter and the table mapper alike.
    return tuple(_match_t3(key, text))


def _match_t3(key: str, text: str) -> list[LabelMatch]:
    if not key:
        return []
    exact = [LabelMatch(r, "exact") for r, forms in _T3_ROWS.items() if key in forms]
    if exact:
        return exact
    if key in _T3_KNOWN_ALTERATIONS:
        return [LabelMatch(_T3_KNOWN_ALTERATIONS[key], "altered")]
    item = _without_group_debris(key)
    if item is not None:
        # Extraction damage, not an alteration: the merged group cell's text ran into the label.
        return [LabelMatch(m.key, "fragment") for m in match_t3_row(item)]
    core = strip_item_number(key)
    # The same item text without its number ("属于国家秘密") is an accepted variant; a group
    # number is not an item number ("(六)其他" is the truncated group, not "3.其他").
    kind = _numbering_kind(key)
    by_core = [
        LabelMatch(r, "exact")
        for r, forms in _T3_ROWS.items()
        if any(core == strip_item_number(f) and kind in (None, _numbering_kind(f)) for f in forms)
    ]
    if by_core and len(core) >= 2:
        return by_core
    matches: list[LabelMatch] = []
    if len(core) >= _MIN_FRAGMENT:
        matches = [
            LabelMatch(r, "fragment") for r, forms in _T3_ROWS.items() if any(core in f for f in forms)
        ]
    if matches:
        return matches
    if match_t3_group(text) is not None:
        return []  # a group label (maybe truncated, "(六)其他") is not a reworded item
    # Similar but not equal: a typo or a reworded label (the template was altered).
    best: list[tuple[float, str]] = []
    for row, cores in _T3_ROW_CORES.items():
        ratio = max(_similarity(core, c) for c in cores)
        if ratio >= _SIMILAR:
            best.append((ratio, row))
    best.sort(key=lambda item: -item[0])
    return [LabelMatch(row, "altered") for _, row in best]


def _similarity(a: str, b: str) -> float:
    """SequenceMatcher's ratio where it can reach _SIMILAR, else 0.0: its cheap upper bounds
    (lengths, then shared characters) rule out most label pairs before the full comparison."""
    if 2 * min(len(a), len(b)) < _SIMILAR * (len(a) + len(b)):
        return 0.0
    matcher = SequenceMatcher(None, a, b)
    if matcher.quick_ratio() < _SIMILAR:
        return 0.0
    return matcher.ratio()


def _numbering_kind(key: str) -> str | None:
    """ "item" for 1. / (1), "group" for （一）, "part" for 一、; None when unnumbered."""
    if re.match(r"^\(?[0-9]{1,2}\)?\.", key):
        return "item"
    if re.match(r"^\([一二三四五六七八九十]+\)", key):
        return "group"
    if re.match(r"^[一二三四五六七八九十]+,", key):
        return "part"
    return None


def _without_group_debris(key: str) -> str | None:
    """The item label after pieces of merged group labels, when that is all the prefix is.

    Unruled or text-dumped tables put the rowspan cells' text on the line of whichever row
    sits beside it: "予公开5.属于三类内部事务信息", "理结果(四)无2.没有现成信息需要另行制作".
    """
    for match in reversed(list(_INNER_ITEM_START.finditer(key))):
        prefix = key[: match.start()]
        if len(prefix) <= _MAX_DEBRIS and _is_group_debris(prefix):
            return key[match.start() :]
    return None


def without_leading_group_debris(text: str) -> str | None:
    """ "他处理纳费用、…" → "纳费用、…": the text after the longest run of group-label pieces."""
    key = label_key(text)
    for cut in range(min(len(key) - 1, _MAX_DEBRIS), 1, -1):
        if _is_group_debris(key[:cut]):
            return key[cut:]
    return None


def _is_group_debris(text: str) -> bool:
    """Whether `text` is a run of pieces of the group labels ("理结果" + "(四)无")."""
    forms = [f for group_forms in _T3_GROUPS.values() for f in group_forms]
    reachable = [True] + [False] * len(text)
    for start in range(len(text)):
        if not reachable[start]:
            continue
        for end in range(start + 1, len(text) + 1):
            if any(text[start:end] in f for f in forms):
                reachable[end] = True
    return reachable[-1]


def match_t3_group(text: str) -> str | None:
    """The group a label names ("denied", …, "results"), if it is a group label."""
    key = label_key(text)
    for group, forms in _T3_GROUPS.items():
        if key in forms:
            return group
    # Extraction breaks group labels apart ("（三）不" / "予公开"); only whole prefixes count.
    for group, forms in _T3_GROUPS.items():
        if len(key) >= 4 and any(f.startswith(key) for f in forms) and key.startswith("("):
            return group
    return None


def match_t3_column(text: str) -> str | None:
    key = label_key(text)
    for column, forms in T3_COLUMN_LABELS.items():
        if key in (label_key(f) for f in forms):
            return column
    return None


def match_t2_row(text: str) -> LabelMatch | None:
    """Table-二 row: exact, "规范性文件" (v2019 wording: altered in a v2021 table) or a prefix."""
    key = label_key(text)
    for row, forms in _T2_ROWS.items():
        if key in forms:
            return LabelMatch(row, "exact")
    if key == label_key("规范性文件"):
        return LabelMatch("normative", "fragment")  # the caller decides by format
    for row, forms in _T2_ROWS.items():
        # Hubei writes filling notes after the label: "规章(设区的市、自治州人民政府应提供相关数据)".
        if any(key.startswith(f + "(") for f in forms):
            return LabelMatch(row, "altered")
    if key.startswith(label_key("规范性文件") + "("):
        return LabelMatch("normative", "altered")
    return None


def label_completeness(text: str) -> Literal["whole", "part"] | None:
    """Whether a row label of table 二 or 三 is whole, a piece of one (wrapped), or neither."""
    key = label_key(text)
    if not key:
        return None
    key = _without_group_debris(key) or key  # "（六）其2.申请人…" is judged as "2.申请人…"
    if match_t2_row(key) is not None or any(m.quality == "exact" for m in match_t3_row(key)):
        return "whole"
    forms = [f for fs in (*_T2_ROWS.values(), *_T3_ROWS.values()) for f in fs]
    if len(key) >= 2 and any(key in f for f in forms):
        return "part"
    return None


def starts_row_label(text: str) -> bool:
    """Whether `text` begins a row label of table 二 or 三 (whole or wrapped after it)."""
    key = label_key(text)
    forms = [f for fs in (*_T2_ROWS.values(), *_T3_ROWS.values()) for f in fs]
    return len(key) >= 2 and any(f.startswith(key) for f in forms)


def t2_header_format(text: str) -> str | None:
    """ "v2021"/"v2019" when a header cell is one of that format's distinctive column titles."""
    key = label_key(text)
    if any(key.startswith(label_key(h)) for h in T2_V2021_HEADERS):
        return "v2021"
    if any(key.startswith(label_key(h)) for h in T2_V2019_HEADERS):
        return "v2019"
    return None


# Pieces of the distinctive titles that survive a title wrapped over lines ("本年制发" / "件数"):
# each belongs to one format's titles only.
_T2_TITLE_PIECES = {
    "v2021": ("制发", "废止", "现行有效"),
    "v2019": ("新制作", "新公开", "对外公开", "上一年", "项目数量"),
}


def t2_title_piece_format(text: str) -> str | None:
    """The format whose wrapped column titles `text` is a piece of, for header lines that
    no whole title matched."""
    key = label_key(text)
    if len(key) > 12:  # a title piece is short; a sentence that mentions 废止 is not one
        return None
    for fmt, pieces in _T2_TITLE_PIECES.items():
        if any(label_key(piece) in key for piece in pieces):
            return fmt
    return None


_T2_HEADER_KEYS = frozenset(label_key(h) for h in T2_KNOWN_HEADERS)


def is_column_header(text: str) -> bool:
    """A column title of table 二 or 三 ("本年制发件数", "信息内容", "自然人", …)."""
    return (
        label_key(text) in _T2_HEADER_KEYS
        or t2_header_format(text) is not None
        or match_t3_column(text) is not None
    )


def is_altered_t2_header(text: str) -> bool:
    """A distinctive header with extra words, e.g. "现行有效件数 (历史累计)"."""
    key = label_key(text)
    for header in (*T2_V2021_HEADERS, *T2_V2019_HEADERS):
        h = label_key(header)
        if key.startswith(h) and key != h:
            return True
    return False
