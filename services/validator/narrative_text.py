"""Reading figures out of narrative sentences, conservatively (§6.6 extraction limits).

A narrative check that cries wolf gets switched off (lessons-from-the-field §7), so a
statement is only extracted when the keyword and its number sit in the same clause, the
number follows the keyword within ~10 characters, nothing else is counted in between
(事项, 留言, 行政许可…), and the sentence is about this year. Everything else is ignored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from .agency import to_simplified

CN_DIGITS = "零〇一二两三四五六七八九"
NUMBER = rf"\d+(?:\.\d+)?|[{CN_DIGITS}十百]+"
CLAUSE_BREAK = ",;!?。"
# Characters common in traditional-character mirror copies; their presence triggers 繁→简.
_TRADITIONAL_HINTS = frozenset("開請報國關機區縣數處總務資訊門條應屬與為於這個們實體項發動進產覆複訴")
# Things counted in 件 that are not applications for government information.
NOT_APPLICATIONS = re.compile(r"事项|留言|行政许可|网络问政|来信|12345|热线|信箱|咨询|来电|投诉|建议|提案")
WHOLE_JURISDICTION = re.compile(r"全(?:市|区|县|省|镇|乡|州|旗|盟)|我(?:市|区|县|省|镇|乡|州|旗)")
PART_OF_JURISDICTION = re.compile(r"办公室|办公厅|政府办|本机关|本单位|本部门|本办|本局|本委|[^全我]局|委员会|中心|代表")


def prepare(text: str) -> str:
    """One line of normalised text: half-width digits and punctuation, simplified, PDF wraps removed."""
    text = unicodedata.normalize("NFKC", text)
    if _TRADITIONAL_HINTS.intersection(text):
        text = to_simplified(text)
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
    total, current = 0, 0
    for ch in token:
        if ch in digits:
            current = digits[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
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
        rf"(?P<gap>[^{CLAUSE_BREAK}\d{CN_DIGITS}十百]{{0,{max_gap}}}?)(?P<num>{NUMBER})\s?(?:{units})"
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


def mentions_other_year(prefix: str, year: int | None) -> bool:
    if re.search(r"上一?年|去年|前年|往年", prefix):
        return True
    return any(int(y) != year for y in re.findall(r"(\d{4})年", prefix)) if year else False


def is_cumulative(prefix: str) -> bool:
    return bool(re.search(r"累计|截止|截至|历年", prefix))


def subject_is_part(sentence_prefix: str) -> bool:
    """Does the sentence's subject name an office or department rather than the whole jurisdiction?

    Decided by whichever marker stands nearest before the figure; no marker means no subject
    (the report speaks for itself).
    """
    last_whole = max((m.end() for m in WHOLE_JURISDICTION.finditer(sentence_prefix)), default=-1)
    last_part = max((m.end() for m in PART_OF_JURISDICTION.finditer(sentence_prefix)), default=-1)
    return last_part > last_whole
