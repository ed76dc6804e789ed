"""Agency identity and level, derived from the name (§1.2).

Names arrive with spaces from line wrapping, full-width characters and, on mirror sites,
traditional characters; agencies are also renamed in 机构改革. `normalise_agency_name`
removes the first three differences and an ops-maintained alias table (old → current name,
stored in the DB) the last.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from typing import Literal

from opencc import OpenCC

from shared.report import Finding

from .catalogue import make_finding

AgencyLevel = Literal["provincial", "prefectural", "county", "township"]
BodyType = Literal["government", "office", "department"]

# Province-level units whose name alone fixes the level (直辖市 look like any other 市).
MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市")
_PROVINCE_UNIT = re.compile(r"^[\u4e00-\u9fff]{2,7}?(省|自治区|特别行政区)")
# A place name is ≥2 characters before its unit, so "城市改造办公室" is no place.
_PLACE = re.compile(r"([\u4e00-\u9fff]{2,8}?)(自治区|自治州|自治县|自治旗|地区|省|市|州|盟|县|区|旗)")
_TOWNSHIP = re.compile(r"(镇|乡|街道)(人民政府|政府|办事处)|街道办事处$|街道$|[镇乡]$")
_SPECIAL_ZONES = ("开发区", "示范区", "新区", "高新区", "园区", "工业区", "保税区", "试验区", "合作区")
_PLACES_ONLY = re.compile(f"(?:{_PLACE.pattern})+")
_NOT_A_PLACE = ("城市", "社区", "片区", "景区", "辖区", "市场", "县域")


@cache
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    return str(_t2s().convert(text))


def normalise_agency_name(name: str, aliases: Mapping[str, str] = {}) -> str:  # noqa: B006 - read only
    """Canonical agency name: no spaces, half-width, simplified, renamed bodies mapped to current names."""
    text = unicodedata.normalize("NFKC", name)
    text = re.sub(r"\s+", "", text)
    text = to_simplified(text)
    if aliases:
        table = {_basic(k): _basic(v) for k, v in aliases.items()}
        seen = set()
        while text in table and text not in seen:  # follow chains of renames, never loop
            seen.add(text)
            text = table[text]
    return text


def same_body(first: str, second: str, aliases: Mapping[str, str] = {}) -> bool:  # noqa: B006 - read only
    """Whether two names denote the same agency: equal once normalised, or one is the other
    with its leading place names left off ("洪泽区人民政府" in a title, "淮安市洪泽区人民政府"
    on the token). The shorter must itself start with a place name, so "公安局" does not
    match every city's 公安局."""
    a, b = normalise_agency_name(first, aliases), normalise_agency_name(second, aliases)
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    if not longer.endswith(shorter) or not _PLACE.match(shorter):
        return False
    return _PLACES_ONLY.fullmatch(longer[: -len(shorter)]) is not None


def check_submitted_agency(
    report_agency: str | None,
    submitted_for: str | None,
    aliases: Mapping[str, str] = {},  # noqa: B006 - read only
) -> list[Finding]:
    """META-AGENCY-MISMATCH: the report names another body than the one it was uploaded
    for. The document stays bound to the upload's agency whatever a person decides, so
    this only asks whether it is a renamed body or a report sent by the wrong agency."""
    if not submitted_for or not (report_agency or "").strip():
        return []
    assert report_agency is not None
    if same_body(report_agency, submitted_for, aliases):
        return []
    return [
        make_finding(
            "META-AGENCY-MISMATCH",
            f"报告标题为“{report_agency}”，提交单位为“{submitted_for}”",
            f"the report names {report_agency!r}; it was submitted for {submitted_for!r}",
        )
    ]


def _basic(name: str) -> str:
    return to_simplified(re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)))


def body_type(name: str) -> BodyType:
    n = normalise_agency_name(name)
    if re.search(r"(人民政府|政府)(办公厅|办公室)$|政府办$", n):
        return "office"
    if n.endswith("人民政府") or n.endswith("政府"):
        return "government"
    return "department"


def derive_level(name: str) -> AgencyLevel | None:
    """The administrative level of the government the body belongs to, or None if the name cannot tell.

    设区的市 and 县级市 cannot be told apart by name (§1.2), so a bare "X市…" body stays unknown
    unless it is a 直辖市 or sits under another 市/州/地区 (then it is a 县级市).
    """
    n = normalise_agency_name(name)
    if _TOWNSHIP.search(n):
        return "township"
    places = [m for m in _PLACE.finditer(n) if not any(m.group(0).endswith(w) for w in _NOT_A_PLACE)]
    # Keep only the leading run of place names: "淮安市洪泽区人民政府" → 淮安市, 洪泽区.
    run = []
    pos = 0
    for m in places:
        if m.start() != pos:
            break
        run.append(m)
        pos = m.end()
    if not run:
        return "provincial" if n.startswith(MUNICIPALITIES) else None
    last = run[-1]
    unit, place = last.group(2), last.group(0)
    if any(place.endswith(z) for z in _SPECIAL_ZONES):
        return None
    if place in MUNICIPALITIES or unit in ("省", "自治区"):
        return "provincial"
    if unit in ("自治州", "州", "盟", "地区"):
        return "prefectural"
    if unit in ("县", "区", "旗", "自治县", "自治旗"):
        return "county"
    if unit == "市" and len(run) > 1 and run[-2].group(2) in ("市", "州", "自治州", "地区", "盟"):
        return "county"
    return None
