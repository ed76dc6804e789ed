"""Recognising the six section headings by their title words (spec §3.1)."""

from __future__ import annotations

import re

from services.parser.normalize import label_key

# Numbering and decoration in front of a heading: "一、" "（一）" "1." "第一部分" "##" "**".
_HEADING_PREFIX = re.compile(
    r"^(?:[#*>\s]*)(?:第?[一二三四五六七八九十]+(?:部分)?[,.]?|\([一二三四五六七八九十]+\)|\(?\d{1,2}\)?[.,]?)?"
)
# Title words at the start of the heading text (after the numbering), per section.
_SECTION_TITLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("1", re.compile(r"^(总体情况|概述|总体概况|基本情况)")),
    ("2", re.compile(r"^主动公开政府信息(的)?情况")),
    ("3", re.compile(r"^收到和处理政府信息公开申请(的)?情况")),
    ("4", re.compile(r"^(因)?(政府信息公开)?(工作)?(被申请)?行政复议(,|和|及|、)?(提起)?行政诉讼")),
    ("5", re.compile(r"^(政府信息公开工作)?存在的?(主要)?问题(及|和|与)?(改进|整改)")),
    ("6", re.compile(r"^其他需要报告的事项")),
)
# Section 五 written only as sub-headings: "（一）2024 年工作中存在问题的改进情况".
_PROBLEMS_SUBHEADING = re.compile(r"存在.{0,4}问题.{0,6}(改进|整改)|^(主要问题|改进情况)$")
_MAX_HEADING_CHARS = 34


def section_of_heading(line: str) -> str | None:
    """ "1".."6" when the line is a section heading, else None. Merged 四/五 count as 四."""
    key = label_key(line)
    if not key or len(key) > _MAX_HEADING_CHARS + 6 or "。" in key or ";" in key:
        return None
    prefix = _HEADING_PREFIX.match(key)
    rest = key[prefix.end() :] if prefix else key
    rest = re.sub(r"^表[一二三四]:?", "", rest)
    if len(rest) > _MAX_HEADING_CHARS:
        return None
    for number, pattern in _SECTION_TITLES:
        if pattern.match(rest):
            return number
    if _PROBLEMS_SUBHEADING.search(rest) and len(rest) < 24:
        return "5"
    return None
