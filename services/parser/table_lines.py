"""Telling table lines from prose, so that section texts hold only the prose (spec §3.1).

A dumped table reaches the section splitter as lines — Markdown rows, tab rows, a label
followed by numbers, header words alone, numbers alone. Sections 二/三/四 are the tables'
own sections: there every line that is not clearly prose is table debris. Sections 一/五/六
are prose: there only lines that are clearly table rows or table labels are removed.
"""

from __future__ import annotations

import re
from functools import lru_cache

from services.parser.labels import (
    T2_KNOWN_HEADERS,
    T3_COLUMN_LABELS,
    T3_GROUP_LABELS,
    match_t2_row,
    match_t3_group,
    match_t3_row,
    t2_header_format,
)
from services.parser.normalize import label_key, squeeze
from services.parser.numbers import read_number
from services.parser.rows import is_markdown_rule, is_page_number, split_line

# Header words of tables 三 and 四 that extraction leaves on lines of their own, often run
# together ("行政复议行政诉讼", "未经复议直接起诉复议后起诉") or broken ("三、本年度办理" / "结果").
_TABLE_WORDS = (
    "申请人情况",
    "法人或其他组织",
    "信息内容",
    "行政复议",
    "行政诉讼",
    "未经复议直接起诉",
    "复议后起诉",
    "结果维持",
    "结果纠正",
    "其他结果",
    "尚未审结",
    "总计",
    "结果",
    "本年度办理",
    "三,本年度办理",
    *(form for forms in T3_COLUMN_LABELS.values() for form in forms),
    *T3_GROUP_LABELS.values(),
    *T2_KNOWN_HEADERS,
)
_ONLY_TABLE_WORDS = re.compile(
    "(?:"
    + "|".join(re.escape(w) for w in sorted({label_key(w) for w in _TABLE_WORDS}, key=len, reverse=True))
    + ")+"
)
_ANCHOR = re.compile(r"第二十条|勾稽关系|^表[一二三四]")
_SENTENCE_MARK = re.compile(r"[。；;！？]")
_CLAUSE_MARK = re.compile(r"[，,：:]")
_MIN_PROSE_CHARS = 12


@lru_cache(maxsize=4096)
def is_table_label(text: str) -> bool:
    """A template row label, column header, anchor or run of header words."""
    key = label_key(text)
    if not key:
        return False
    if _ANCHOR.search(key) or _ONLY_TABLE_WORDS.fullmatch(key):
        return True
    if match_t2_row(text) is not None or t2_header_format(text) is not None:
        return True
    if match_t3_group(text) is not None:
        return True
    return any(m.quality != "altered" for m in match_t3_row(text))


def is_prose(text: str) -> bool:
    """A sentence (or a piece of one): clause punctuation in enough words to be narrative."""
    compact = squeeze(text)
    if len(compact) < _MIN_PROSE_CHARS and not _SENTENCE_MARK.search(compact):
        return False
    return bool(_SENTENCE_MARK.search(compact) or _CLAUSE_MARK.search(compact))


def _is_row_of_cells(fields: list[str], *, in_table_section: bool) -> bool:
    """Several fields on a line: a labelled row of numbers or a header row, not split prose."""
    if any(is_prose(f) and not is_table_label(f) for f in fields):
        return False
    if any(read_number(f).readable for f in fields):
        return True
    return all(
        is_table_label(f) or (in_table_section and len(squeeze(f)) <= _MIN_PROSE_CHARS) for f in fields
    )


def is_table_line(line: str, *, in_table_section: bool) -> bool:
    """True when `line` is a piece of a dumped table rather than narrative text."""
    stripped = line.strip()
    if not stripped:
        return False
    if is_markdown_rule(stripped) or is_page_number(stripped):
        return True
    fields = [f for f in split_line(line) if f.strip()]
    if len(fields) >= 2 and _is_row_of_cells(fields, in_table_section=in_table_section):
        return True
    if len(fields) == 1 and is_table_label(stripped):
        return True
    if not in_table_section:
        return False
    return not is_prose(stripped)
