"""Reading figures out of narrative sentences, conservatively (§6.6 extraction limits).

A narrative check that cries wolf gets switched off (lessons-from-the-field §7), so a
statement is only extracted when the keyword and its number sit in the same clause, the
number follows the keyword within ~10 characters, nothing else is counted in between
(事项, 留言, 行政许可…), and the sentence is about this year. Everything else is ignored.

Besides the figure, a sentence tells whose figure it is (`subject_scope`: this report's
body, a part of it, or another body) and for which period (`other_period`, `is_cumulative`);
the rules compare only like with like.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Literal

from opencc import OpenCC

CN_DIGITS = "零〇一二两三四五六七八九"
NUMBER = rf"\d+(?:\.\d+)?|[{CN_DIGITS}十百千]+"
# A colon ends a heading ("依申请公开办理情况：…"): what stands before it is no part of the clause.
CLAUSE_BREAK = ",;:!?。"
# Characters common in traditional-character mirror copies; their presence triggers 繁→简.
_TRADITIONAL_HINTS = frozenset(
    "開請報國關機區縣數處總務資訊門條應屬與為於這個們實體項發動進產覆複訴無許職權規範檔議結辦網電號單審態變當時間會場級書長"
)
# Things counted in 件 that are not applications for government information.
NOT_APPLICATIONS = re.compile(
    r"事项|留言|举报|行政许可|网络问政|来信|来访|信访|12345|热线|信箱|咨询|来电|投诉|建议|提案|工单|诉求|人次|复议|诉讼"
)


@cache
def _traditional_to_simplified() -> OpenCC:
    return OpenCC("t2s")


# Taiwan-vocabulary conversion on mirror copies changes words (§8): undo the ones our rules read.
# (OpenCC's tw2sp would, but it also turns a plain 文件 into 文档.)
_TAIWAN_WORDS = {"资讯": "信息", "讯息": "信息", "规范性档案": "规范性文件", "其他档案": "其他文件", "网路": "网络",
                 "製作": "制作", "製发": "制发"}
_TAIWAN_WORD = re.compile("|".join(_TAIWAN_WORDS))


_CN_YEAR_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "○": "0", "O": "0", "o": "0"}
CN_YEAR = re.compile(r"[一二][〇零○Oo一二三四五六七八九]{3}(?=年)")


def prepare(text: str) -> str:
    """One line of normalised text: half-width digits and punctuation, simplified, PDF wraps removed."""
    text = unicodedata.normalize("NFKC", text)
    if _TRADITIONAL_HINTS.intersection(text):
        text = _TAIWAN_WORD.sub(lambda m: _TAIWAN_WORDS[m.group(0)], str(_traditional_to_simplified().convert(text)))
    text = CN_YEAR.sub(lambda m: "".join(_CN_YEAR_DIGITS[c] for c in m.group(0)), text)  # 二〇二二年 → 2022年
    text = re.sub(r"[—-]\s*\d{1,3}\s*[—-]", "", text)  # page footers "— 2 —"
    # Whitespace is a PDF line wrap or padding, except between two digits where it separates numbers.
    text = re.sub(r"(?<!\d)\s+|\s+(?!\d)", "", text)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # thousands separators


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=。)", text) if s]


def clause_start(sentence: str, pos: int) -> int:
    """Index where the clause containing `pos` begins."""
    best = 0
    for ch in CLAUSE_BREAK:
        i = sentence.rfind(ch, 0, pos)
        if i + 1 > best:
            best = i + 1
    return best


def clause_end(sentence: str, pos: int) -> int:
    ends = [i for i in (sentence.find(ch, pos) for ch in CLAUSE_BREAK) if i >= 0]
    return min(ends) if ends else len(sentence)


def cn_number(token: str) -> float | None:
    """Arabic or small Chinese numerals ("两", "十二", "三十五") as a number."""
    if token[0].isdigit():
        return float(token)
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
    places = {"十": 10, "百": 100, "千": 1000}
    total, current = 0, 0
    for ch in token:
        if ch in digits:
            current = digits[ch]
        elif ch in places:
            total += (current or 1) * places[ch]
            current = 0
        else:
            return None
    return float(total + current)


@dataclass(frozen=True)
class Figure:
    """A number stated right after a keyword, in the same clause."""

    keyword: str
    value: float
    sentence: str
    keyword_start: int
    end: int  # index after the unit
    gap: str  # text between keyword and number

    @property
    def clause_prefix(self) -> str:
        return self.sentence[clause_start(self.sentence, self.keyword_start) : self.keyword_start]

    @property
    def quote(self) -> str:
        return self.sentence[clause_start(self.sentence, self.keyword_start) : self.end]


def figures_after(
    sentence: str, keyword: re.Pattern[str], units: str = "件|份", max_gap: int = 10
) -> Iterator[tuple[re.Match[str], Figure | None]]:
    """Each keyword match with the figure that follows it in the same clause, if any."""
    number_after = re.compile(
        rf"(?P<gap>[^{CLAUSE_BREAK}\d{CN_DIGITS}十百千]{{0,{max_gap}}}?)(?P<num>{NUMBER})\s?(?:{units})(?!次)"
    )
    for m in keyword.finditer(sentence):
        n = number_after.match(sentence, m.end())
        value = cn_number(n.group("num")) if n else None
        if n is None or value is None:
            yield m, None
            continue
        yield m, Figure(m.group(0), value, sentence, m.start(), n.end(), n.group("gap"))


PERCENT_AFTER = re.compile(r"[(（]?,?(?:占比?|比例为|比例)?(?:为)?(\d+(?:\.(\d+))?)%")


def percent_after(figure: Figure) -> tuple[float, int] | None:
    """'208件(17.46%)' or '258件,占33.9%' → (17.46, 2)."""
    m = PERCENT_AFTER.match(figure.sentence, figure.end)
    if not m:
        return None
    return float(m.group(1)), len(m.group(2) or "")


def is_cumulative(prefix: str) -> bool:
    """累计/截至/历年 — unless 累计 is bounded by the year ("全年累计受理…")."""
    return bool(re.search(r"(?<!全年)(?<!本年)(?<!年内)(?<!本年度)累计|截止|截至|历年", prefix))


_CN_MONTH = "一二三四五六七八九十"
_MONTH = rf"(?<![\d{_CN_MONTH}])(?:\d{{1,2}}|[{_CN_MONTH}]{{1,3}})"
MONTH_RANGE = re.compile(
    rf"(?P<a>{_MONTH})月?份?(?:\d{{1,2}}日)?(?:至|到|-|—|–|~)(?:\d{{4}}年)?(?P<b>\d{{1,2}}|[{_CN_MONTH}]{{1,3}})月"
)
SINGLE_MONTH = re.compile(rf"(?P<m>{_MONTH})月份?(?P<end>31日|底|末)?")
PART_OF_YEAR = re.compile(r"上半年|下半年|(?:第?[一二三四1-4]|前[二两三]|后[二两三])季度")


TIME_MARKER = re.compile(
    rf"(?P<range>{MONTH_RANGE.pattern})|(?P<quarter>{PART_OF_YEAR.pattern})|(?P<month>{SINGLE_MONTH.pattern})"
    r"|(?P<last>上一?个?年度?|去年|前年|往年)|(?P<year>\d{4})年|(?P<this>本年度?|今年|全年|年内|当年|年度内)"
)
Period = Literal["year", "other_year", "part"]


def _marker_period(m: re.Match[str], year: int | None = None) -> Period:
    if m.group("range"):
        return "year" if (cn_number(m.group("a")), cn_number(m.group("b"))) == (1.0, 12.0) else "part"
    if m.group("quarter"):
        return "part"
    if m.group("month"):
        return "year" if cn_number(m.group("m")) == 12 and m.group("end") else "part"
    if m.group("last"):
        return "other_year"
    if m.group("year"):
        return "other_year" if year and int(m.group("year")) != year else "year"
    return "year"


def other_period(sentence_prefix: str, year: int | None) -> bool:
    """Is the figure another year's or a part of the year's?  The nearest time marker before it decides:
    "2022年收到…5件，2023年收到…3件" states 2023's figure second, "截至11月底，共受理…" a part of the year."""
    last: re.Match[str] | None = None
    for m in TIME_MARKER.finditer(sentence_prefix):
        if last is not None and m.start() == last.end() and m.group("this") in ("全年", "年内", "年度内"):
            continue  # "去年全年", "2022年全年": the whole of the year just named
        last = m
    return last is not None and _marker_period(last, year) != "year"


Scope = Literal["own", "part", "other", "unclear"]

# Who a sentence speaks for; the nearest marker before the figure decides.  Alternatives are
# tried left to right at each position, so "代表区政府" is read as one marker, not "区政府".
SUBJECT = re.compile(
    r"(?P<behalf>代表(?:全?[省市区县州旗盟镇乡])?(?:人民)?政府)"
    r"|(?P<office>(?:[省市区县州旗盟镇乡]|人民)?政府(?:办公厅|办公室|办)|办公厅|办公室)"
    r"|(?P<own>本机关|本单位|本部门|本系统|我(?:局|委|办|厅|院|署|所|站|中心|单位|部门|机关)"
    r"|本(?:局|委|办|厅|院|署|所|站|中心))"
    r"|(?P<members>各(?:部门|单位|镇|乡|街道|镇街|乡镇|县区|区县|县市区|级|委办局)|[省市区县](?:直|属)各?(?:部门|单位)"
    r"|下属|所属|本级)"
    r"|(?P<whole>[全我](?P<unit>[省市区县州旗盟镇乡])(?:各级(?:行政机关|政府|部门|单位)?)?)"
    r"|(?P<government>(?P<gunit>[省市区县州旗盟镇乡])(?:人民)?政府)"
    r"|(?P<department>(?<![大格布全结当])局(?!面|势)|委员会|中心(?!工作|任务))"
)
_OWN_UNIT = re.compile(r"([省市区县州旗盟镇乡])(?:人民)?政府")


def own_unit(agency: str | None) -> str | None:
    """The unit (市, 区, 镇 …) of the government a report's agency belongs to: "淮安市洪泽区人民政府" → 区."""
    units = _OWN_UNIT.findall(agency or "")
    return units[-1] if units else None


def subject_scope(sentence_prefix: str, summary: bool, agency: str | None) -> Scope:
    """Whose figure the sentence states, relative to the report's tables.

    An agency report's tables are the body's own: a department or office subject is the body
    itself, while the whole jurisdiction (全区, 我市), its members (各部门) and figures stated
    on behalf of the government (代表区政府) are other bodies' figures.  A summary report's
    tables cover the whole jurisdiction: offices, departments and members are parts of it,
    another level's 全市/市政府 is another body.  "区政府" may be the government alone or the
    district: unclear.  No marker: the report speaks for itself.
    """
    markers = list(SUBJECT.finditer(sentence_prefix))
    if not markers:
        return "own"
    m = markers[-1]
    kind = m.lastgroup or ""
    unit = own_unit(agency)
    is_government = bool(agency) and re.search(r"政府$", agency or "") is not None
    if kind in ("whole", "government"):
        named = m.group("unit") or m.group("gunit")
        same_level = unit is None or named == unit
        if not same_level:
            return "other"
        if kind == "whole":
            return "own" if summary or is_government else "other"
        # "区政府受理…": the government itself (本级) or the whole district, and an office often files
        # its government's own figures — whose figure it is stays unclear.
        return "unclear"
    if summary:
        return "part"
    return "other" if kind in ("behalf", "members") else "own"
