"""Report metadata from the text: title, agency, year, kind, statistics period, sections.

Everything is read from the document itself (lesson 11: never from the file name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.parser.normalize import squeeze, to_simplified, width_fold
from services.parser.sections import section_of_heading
from services.parser.table_lines import is_table_line

_TITLE_END = re.compile(r"(年度报告|年报告|年报|工作报告)$")
# A remark after the title ("（全文）", "（2024年1月25日）") is not part of it.
_TITLE_REMARK = re.compile(r"[(（][^()（）]{1,14}[)）]$")
# The title quoted inside a covering notice: 关于印发《…年度报告》的通知.
_QUOTED_TITLE = re.compile(r"《([^《》]{6,70})》")
# An organisation's name printed on its own line under a title that names no body.
_BODY_LINE = re.compile(
    r"^[\u4e00-\u9fff()]{2,24}(局|委员会|委|办公室|办公厅|办|院|厅|政府|中心|室|会|所|站|队|处|署)$"
)
_TITLE_BODY = re.compile(r"(政府)?信息公开")
_YEAR = re.compile(r"((?:19|20)\d{2})年度?")
_TITLE_SEARCH_LINES = 80
_PERIOD = re.compile(
    r"统计(?:期限|时限|周期|期间|时间|区间|范围)\D{0,8}?((?:19|20)\d{2})年(\d{1,2})月(\d{1,2})日(?:起)?"
    r"(?:至|到|-|—|~)((?:19|20)\d{2})?年?(\d{1,2})月(\d{1,2})日"
)
_PUBLISHED = re.compile(
    r"(?:发布日期|发布时间|公开日期|发文日期|发布于)[:：]?\s*((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})"
)
# Words that end an organisation name: anything ending so is an agency, not a bare place.
_PLACE_SUFFIX = re.compile(r"(省|自治区|市|自治州|州|盟|地区|县|自治县|区|旗|新区)$")
_TOWNSHIP = re.compile(r"(乡|镇|街道)(人民政府|办事处)?$|街道办事处$")
# A CMS page's footer ends the report: nothing after it belongs to section 六.
_PAGE_CHROME = re.compile(r"打印本页|关闭窗口|网站标识码|ICP备|版权所有|主办单位[:：]|技术支持[:：]")
# Lines with neither CJK nor digits are script or layout debris ("\";", "document.write(…)").
_HAS_TEXT = re.compile(r"[\u3001-\u303f\u3400-\u9fff\uff01-\uffef0-9]")
_FUNCTION_CHARS = set("由与和及为是在对向的经请告了本据按照于从")


@dataclass
class Metadata:
    title: str | None = None
    agency: str | None = None
    year: int | None = None
    report_kind: str = "agency"
    statistics_period: str | None = None
    published_on: str | None = None
    sections: dict[str, str] = field(default_factory=dict)


def find_title(lines: list[str]) -> str | None:
    """The report title: the shortest run of 1–3 lines ending in 年度报告/年报告 with a year.

    Titles wrap anywhere ("…政府信息公" / "开工作年度报告", "洪泽区人民政府" / "2023 年…"), so runs
    ending at each line are tried shortest first; one that names a body wins.
    """
    clean = [_title_text(line) for line in lines[:_TITLE_SEARCH_LINES]]
    bodiless: str | None = None
    for end, line in enumerate(clean):
        # The last line of a wrapped title may hold a single character ("…年度报" / "告").
        if not line.endswith(("告", "报")):
            continue
        for span in (1, 2, 3, 4):
            if end + 1 - span < 0:
                break
            candidate = "".join(clean[end + 1 - span : end + 1])
            if len(candidate) > 70 or "。" in candidate:
                break
            if not (
                _TITLE_END.search(candidate) and _TITLE_BODY.search(candidate) and _YEAR.search(candidate)
            ):
                continue
            if _body_of(candidate):
                return candidate
            bodiless = bodiless or candidate
    return bodiless


def _title_text(line: str) -> str:
    text = to_simplified(squeeze(width_fold(line)).strip("#*"))
    quoted = _QUOTED_TITLE.search(text)
    if quoted and _TITLE_BODY.search(quoted.group(1)):
        text = quoted.group(1)
    return _TITLE_REMARK.sub("", text)


def agency_below_title(lines: list[str], title: str) -> str | None:
    """The body's name on the line under a title that names none ("2023年…年度报告" / "某市财政局")."""
    clean = [_title_text(line) for line in lines[:_TITLE_SEARCH_LINES]]
    for i, line in enumerate(clean[:-1]):
        if title.endswith(line) and line:
            below = next((c for c in clean[i + 1 : i + 3] if c), "")
            return below if _BODY_LINE.match(below) else None
    return None


def _body_of(title: str) -> str:
    text = _YEAR.sub("", title, count=1)
    match = _TITLE_BODY.search(text)
    body = text[: match.start()] if match else text
    return _without_specks(body.strip(",，:：、 "))


_BODY_SUFFIX = re.compile(r"(人民政府办公室|人民政府办公厅|人民政府|办公室|办公厅|委员会|局)")
_SPECKS = re.compile(r"[,，\"”“'‘’0-9]")


def _without_specks(body: str) -> str:
    """A body name as OCR may leave it ("0洪泽区人民政府尽，”学5"): what stands before the
    first Chinese character, and a short tail of specks after the body's suffix, go."""
    body = re.sub(r"^[^\u4e00-\u9fff]+", "", body)
    suffixes = list(_BODY_SUFFIX.finditer(body))
    if suffixes:
        tail = body[suffixes[-1].end() :]
        if tail and len(tail) <= 8 and _SPECKS.search(tail):
            body = body[: suffixes[-1].end()]
    return body


def agency_from_title(title: str, full_text: str) -> str | None:
    body = _body_of(title)
    if not body:
        return None
    if body.endswith("人民政府") and not _TOWNSHIP.search(body):
        return _with_parent_place(body, full_text)
    return body


def _with_parent_place(body: str, full_text: str) -> str:
    """ "洪泽区人民政府" → "淮安市洪泽区人民政府" when the report itself names it so."""
    if re.match(r"^.{2,8}(省|市|自治区)", body) and not re.match(r"^.{1,3}[区县]", body):
        return body
    best: dict[str, int] = {}
    for match in re.finditer(r"([\u4e00-\u9fff]{2,8}?(?:省|市|州|盟))" + re.escape(body), full_text):
        prefix = match.group(1)
        cut = max((i for i, ch in enumerate(prefix[:-1]) if ch in _FUNCTION_CHARS), default=-1)
        prefix = prefix[cut + 1 :]
        if len(prefix) >= 3:
            best[prefix] = best.get(prefix, 0) + 1
    if not best:
        return body
    return max(best, key=lambda p: best[p]) + body


def report_kind(agency: str | None) -> str:
    """§1.2: summary for a county-or-higher 人民政府 or a bare place name; agency otherwise."""
    if not agency or _TOWNSHIP.search(agency):
        return "agency"
    if agency.endswith("人民政府") or agency.endswith("政府"):
        return "summary"
    if (
        _PLACE_SUFFIX.search(agency)
        and len(agency) <= 12
        and not re.search(r"(局|委|办|院|会|中心|所|队|站|厅)", agency)
    ):
        return "summary"
    return "agency"


def statistics_period(text: str) -> str | None:
    match = _PERIOD.search(squeeze(width_fold(text)))
    if match is None:
        return None
    start_year, sm, sd, end_year, em, ed = match.groups()
    end_year = end_year or start_year
    return f"{start_year}-{int(sm):02d}-{int(sd):02d}..{end_year}-{int(em):02d}-{int(ed):02d}"


def published_on(text_head: str, metadata: dict[str, str]) -> str | None:
    if metadata.get("published_on"):
        return metadata["published_on"]
    match = _PUBLISHED.search(width_fold(text_head))
    if match is None:
        return None
    year, month, day = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def split_sections(lines: list[str], grid_lines: frozenset[int] = frozenset()) -> dict[str, str]:
    """Section number → its text, from each section's first heading to the next heading;
    "0" holds the preamble (title and the sentences before section 一).

    The preamble's list of parts is not a heading: headings must start with the title words
    (after the numbering), which a sentence listing the parts does not. Table lines are left
    out: the cells are read by the table mapper, a section's text is its prose only.
    """
    starts: list[tuple[int, str]] = []
    seen: set[str] = set()
    chrome = next((i for i, line in enumerate(lines) if _PAGE_CHROME.search(line)), len(lines))
    for i, line in enumerate(lines[:chrome]):
        if len(line) > 80:
            continue
        number = section_of_heading(line)
        if number and number not in seen:
            seen.add(number)
            starts.append((i, number))
    sections: dict[str, str] = {}
    if starts:  # "0": the preamble before section 一 (statistics period, cited notice, parts)
        preamble = "\n".join(line for line in lines[: starts[0][0]] if _HAS_TEXT.search(line))
        sections["0"] = preamble.strip()
    for n, (start, number) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else chrome
        in_table_section = number in ("2", "3", "4")
        body = "\n".join(
            line
            for i, line in enumerate(lines[start + 1 : end], start=start + 1)
            if _HAS_TEXT.search(line)
            and i not in grid_lines
            and section_of_heading(line) is None
            and not is_table_line(line, in_table_section=in_table_section)
        )
        sections[number] = body.strip()
    return sections


def read_metadata(
    lines: list[str], metadata: dict[str, str], grid_lines: frozenset[int] = frozenset()
) -> Metadata:
    full_text = "\n".join(lines)
    squeezed = to_simplified(squeeze(width_fold(full_text[:20000])))
    result = Metadata()
    title = find_title(lines) or _title_from_metadata(metadata)
    result.title = title
    result.statistics_period = statistics_period(full_text[:20000])
    if title:
        result.agency = agency_from_title(title, squeezed) or agency_below_title(lines, title)
        year = _YEAR.search(title)
        result.year = int(year.group(1)) if year else None
    if result.year is None and result.statistics_period:
        result.year = int(result.statistics_period[:4])
    result.report_kind = report_kind(result.agency)
    result.published_on = published_on("\n".join(lines[:60]), metadata)
    result.sections = split_sections(lines, grid_lines)
    return result


def _title_from_metadata(metadata: dict[str, str]) -> str | None:
    raw = metadata.get("title")
    if not raw:
        return None
    title = to_simplified(squeeze(width_fold(raw)))
    # <title> often carries the site name after a separator: "XX年度报告_某某网".
    title = re.split(r"[_|]|-{1,2}(?=[^\d])", title)[0]
    return title if _TITLE_BODY.search(title) and _YEAR.search(title) else None
