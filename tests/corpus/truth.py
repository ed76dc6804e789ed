"""Random but internally consistent report truths for the synthetic test corpus.

A *truth* is what a perfect parser must read back from a rendered report: the agency,
year, format and every cell of spec §3 (annual-report-format.md), plus the narrative the
renderers print around the tables. Every truth satisfies the arithmetic of spec §6.3–6.5,
so a parse that breaks a rule on a synthetic file has misread it.
"""

from __future__ import annotations

import random
from typing import Any

from shared.report import (
    T2_KEYS_V2019,
    T2_KEYS_V2021,
    T3_COLUMNS,
    T3_ORG_COLUMNS,
    T3_ROWS_V2019,
    T3_ROWS_V2021,
    T4_GROUPS,
    keys_for_format,
    t3_key,
)

# Result rows (3..23 of table 三) in print order, for both layouts.
RESULT_ROWS_V2021: tuple[str, ...] = T3_ROWS_V2021[2:23]
RESULT_ROWS_SINGLE_OTHER: tuple[str, ...] = (*T3_ROWS_V2021[2:20], "other_all")
OTHER_SUB_ROWS: tuple[str, ...] = T3_ROWS_V2021[20:23]

CITIES = ("淮安市", "洛阳市", "湛江市", "长春市", "襄阳市", "绵阳市", "赣州市", "台州市", "潍坊市", "株洲市")
DISTRICTS = (
    "清河区",
    "城关区",
    "新华区",
    "西城区",
    "高新区",
    "临江区",
    "河东区",
    "云岩区",
    "金水区",
    "北湖区",
)
COUNTIES = ("平阳县", "永宁县", "安仁县", "石城县", "宁远县", "兴和县", "长丰县", "桐梓县")
TOWNS = ("河口镇", "青石镇", "白沙镇", "龙泉镇", "马桥镇", "三里镇", "东湖街道办事处")
DEPARTMENTS = (
    "民政局",
    "财政局",
    "教育局",
    "司法局",
    "统计局",
    "生态环境局",
    "交通运输局",
    "卫生健康委员会",
    "市场监督管理局",
    "自然资源和规划局",
    "住房和城乡建设局",
    "退役军人事务局",
    "地方志办公室",
    "公共资源交易中心",
    "城市管理局",
    "农业农村局",
)

# How often each result row is used, roughly as in real reports (most applications end as
# 予以公开 or 本机关不掌握; many rows stay 0).
RESULT_WEIGHTS: dict[str, float] = {
    "granted": 30,
    "partial": 6,
    "denied_state_secret": 0.5,
    "denied_law_forbidden": 0.5,
    "denied_three_security": 0.3,
    "denied_third_party": 1.5,
    "denied_internal_affairs": 1,
    "denied_process_info": 1.5,
    "denied_enforcement_file": 0.5,
    "denied_admin_query": 1,
    "unable_not_held": 25,
    "unable_need_creation": 3,
    "unable_unclear": 2,
    "ignored_petition": 4,
    "ignored_duplicate": 2,
    "ignored_publication": 0.3,
    "ignored_mass_repeat": 0.5,
    "ignored_confirm": 0.5,
    "other_no_correction": 3,
    "other_no_fee": 0.3,
    "other_other": 6,
}
RESULT_WEIGHTS["other_all"] = sum(RESULT_WEIGHTS[r] for r in OTHER_SUB_ROWS)


def random_truth(
    rng: random.Random,
    *,
    report_format: str = "v2021",
    hybrid: bool = False,
    kind: str = "agency",
) -> dict[str, Any]:
    """A consistent report: metadata, every cell of the format, blank markers and narrative."""
    if report_format not in ("v2021", "v2019"):
        raise ValueError(f"unsupported report_format {report_format!r}")
    if hybrid and report_format != "v2021":
        raise ValueError("the hybrid layout is a v2021 report")
    year = rng.randint(2021, 2025) if report_format == "v2021" else rng.choice((2019, 2020))
    agency, can_make_rules = _random_agency(rng, kind)
    cells: dict[str, int | float | None] = dict.fromkeys(keys_for_format(report_format, hybrid=hybrid))  # type: ignore[arg-type]
    scale = _random_scale(rng, kind)
    if report_format == "v2021":
        cells.update(_section2_v2021(rng, scale, can_make_rules))
    else:
        cells.update(_section2_v2019(rng, scale, can_make_rules))
    single_other_row = hybrid or report_format == "v2019"
    cells.update(_section3(rng, scale, single_other_row))
    cells.update(_section4(rng, scale))
    markers = _random_blank_markers(rng, cells)
    title = rng.choice(
        (f"{agency}{year}年政府信息公开工作年度报告", f"{year}年{agency}政府信息公开工作年度报告")
    )
    truth: dict[str, Any] = {
        "agency": agency,
        "year": year,
        "report_kind": kind,
        "report_format": report_format,
        "hybrid": hybrid,
        "title": title,
        "statistics_period": f"{year}-01-01..{year}-12-31",
        "published_on": _random_publication_date(rng, year),
        "cells": cells,
        "blank_cells": sorted(markers),
        "markers": markers,
    }
    truth["preamble"] = _preamble(rng, truth)
    truth["sections"], truth["narrative_numbers"] = _narrative(rng, truth)
    return truth


# --- metadata ---------------------------------------------------------------


def _random_agency(rng: random.Random, kind: str) -> tuple[str, bool]:
    """A realistic body name, and whether it may show 规章 (only city governments and their offices)."""
    city = rng.choice(CITIES)
    if kind == "summary":
        shape = rng.randrange(3)
        if shape == 0:
            return f"{city}人民政府", True
        return f"{city}{rng.choice(DISTRICTS if shape == 1 else COUNTIES)}人民政府", False
    shape = rng.randrange(5)
    if shape == 0:
        return f"{city}人民政府办公室", True
    if shape == 1:
        return f"{city}{rng.choice(DISTRICTS)}人民政府办公室", False
    if shape == 2:
        return f"{rng.choice(COUNTIES)}{rng.choice(DEPARTMENTS)}", False
    if shape == 3:
        return f"{city}{rng.choice(DEPARTMENTS)}", False
    town = rng.choice(TOWNS)
    suffix = "" if town.endswith("办事处") else "人民政府"
    return f"{rng.choice(COUNTIES)}{town}{suffix}", False


def _random_publication_date(rng: random.Random, year: int) -> str | None:
    if rng.random() < 0.3:
        return None
    return f"{year + 1}-{rng.randint(1, 3):02d}-{rng.randint(1, 28):02d}"


def _random_scale(rng: random.Random, kind: str) -> int:
    """Rough number of applications: many bodies get none, a few get thousands."""
    roll = rng.random()
    if kind == "summary":
        roll = roll * 0.6 + 0.4  # governments rarely receive nothing
    if roll < 0.35:
        return 0
    if roll < 0.75:
        return rng.randint(1, 30)
    if roll < 0.93:
        return rng.randint(30, 500)
    return rng.randint(1000, 5000)


# --- section 二 -------------------------------------------------------------


def _sparse_count(rng: random.Random, scale: int, *, zero_share: float, high: int) -> int:
    if rng.random() < zero_share:
        return 0
    if scale >= 1000 and rng.random() < 0.5:
        return rng.randint(1000, max(1000, high * 10))  # exercises "1,015"
    return rng.randint(1, high)


def _random_fee(rng: random.Random) -> int | float:
    if rng.random() < 0.6:
        return 0
    decimals = rng.choice((0, 1, 2, 4))
    amount = round(rng.uniform(0.01, 9000), decimals)
    return int(amount) if decimals == 0 else amount


def _section2_v2021(rng: random.Random, scale: int, can_make_rules: bool) -> dict[str, int | float]:
    cells: dict[str, int | float] = {}
    for doc in ("rules", "normative"):
        if doc == "rules" and not can_make_rules:
            issued = repealed = in_force = 0
        else:
            issued = _sparse_count(rng, 0, zero_share=0.4, high=40)
            repealed = rng.randint(0, issued + 3) if rng.random() < 0.5 else 0
            in_force = issued + rng.randint(0, 300)
        cells[f"t2_{doc}_issued"], cells[f"t2_{doc}_repealed"], cells[f"t2_{doc}_in_force"] = (
            issued,
            repealed,
            in_force,
        )
    cells["t2_license_decisions"] = _sparse_count(rng, scale, zero_share=0.5, high=500)
    cells["t2_penalty_decisions"] = _sparse_count(rng, scale, zero_share=0.5, high=400)
    cells["t2_coercion_decisions"] = _sparse_count(rng, scale, zero_share=0.7, high=60)
    cells["t2_fee_amount_wan"] = _random_fee(rng)
    assert set(cells) == set(T2_KEYS_V2021)
    return cells


def _section2_v2019(rng: random.Random, scale: int, can_make_rules: bool) -> dict[str, int | float]:
    cells: dict[str, int | float] = {}
    for doc in ("rules", "normative"):
        made = 0 if doc == "rules" and not can_make_rules else _sparse_count(rng, 0, zero_share=0.4, high=40)
        cells[f"t2v19_{doc}_new_made"] = made
        cells[f"t2v19_{doc}_new_published"] = made
        cells[f"t2v19_{doc}_total_published"] = made + (
            rng.randint(0, 500) if made or rng.random() < 0.3 else 0
        )
    for item in ("license", "other_service", "penalty", "coercion"):
        prev = _sparse_count(rng, 0, zero_share=0.5, high=120)
        cells[f"t2v19_{item}_prev_items"] = prev
        cells[f"t2v19_{item}_delta"] = rng.randint(-min(prev, 9), 9) if rng.random() < 0.4 else 0
        cells[f"t2v19_{item}_decisions"] = _sparse_count(rng, scale, zero_share=0.5, high=400)
    fee_prev = _sparse_count(rng, 0, zero_share=0.6, high=20)
    cells["t2v19_fee_prev_items"] = fee_prev
    cells["t2v19_fee_delta"] = rng.randint(-min(fee_prev, 3), 3) if rng.random() < 0.3 else 0
    cells["t2v19_procurement_items"] = _sparse_count(rng, 0, zero_share=0.5, high=30)
    cells["t2v19_procurement_amount"] = _random_fee(rng) if cells["t2v19_procurement_items"] else 0
    assert set(cells) == set(T2_KEYS_V2019)
    return cells


# --- section 三 -------------------------------------------------------------


def _split(rng: random.Random, amount: int, weights: dict[str, float]) -> dict[str, int]:
    """Distribute `amount` applications over rows; exact, and sparse like real tables."""
    names = list(weights)
    shares = [weights[n] for n in names]
    counts = dict.fromkeys(names, 0)
    if amount <= 300:
        for name in rng.choices(names, shares, k=amount):
            counts[name] += 1
        return counts
    # Large amounts: proportional with noise, remainder to the heaviest row, so it stays fast.
    total_share = sum(shares)
    for name, share in zip(names, shares, strict=True):
        counts[name] = int(amount * share / total_share * rng.uniform(0.7, 1.1))
    heaviest = max(names, key=lambda n: weights[n])
    overshoot = sum(counts.values()) - amount
    counts[heaviest] -= overshoot
    if counts[heaviest] < 0:  # the noise overshot; fall back to a plain proportional split
        counts = {n: amount * weights[n] // total_share for n in names}  # type: ignore[misc]
        counts = {n: int(v) for n, v in counts.items()}
        counts[heaviest] += amount - sum(counts.values())
    return counts


def _applicants_per_column(rng: random.Random, scale: int) -> dict[str, int]:
    """New applications per applicant column: mostly individuals, some companies, rare others."""
    new = {"natural": scale}
    org_probability = {
        "org_business": 0.5,
        "org_research": 0.05,
        "org_ngo": 0.08,
        "org_legal": 0.2,
        "org_other": 0.15,
    }
    for column, probability in org_probability.items():
        new[column] = rng.randint(1, max(1, scale // 8)) if scale and rng.random() < probability else 0
    return new


def _section3(rng: random.Random, scale: int, single_other_row: bool) -> dict[str, int]:
    result_rows = RESULT_ROWS_SINGLE_OTHER if single_other_row else RESULT_ROWS_V2021
    # One weight profile per report, so a body's habits (e.g. never 部分公开) show in every column.
    weights = {row: RESULT_WEIGHTS[row] * rng.choice((0, 0.3, 1, 1, 2)) for row in result_rows}
    weights["granted"] = max(weights["granted"], 5.0)
    cells: dict[str, int] = {}
    for column, new in _applicants_per_column(rng, scale).items():
        carried_over = rng.randint(0, max(0, new // 10)) if new and rng.random() < 0.4 else 0
        available = new + carried_over
        carried_forward = rng.randint(0, available // 8) if available and rng.random() < 0.4 else 0
        results = _split(rng, available - carried_forward, weights)
        cells[t3_key("new_received", column)] = new
        cells[t3_key("carried_over", column)] = carried_over
        for row in result_rows:
            cells[t3_key(row, column)] = results[row]
        cells[t3_key("total_processed", column)] = sum(results.values())
        cells[t3_key("carried_forward", column)] = carried_forward
    rows = T3_ROWS_V2019 if single_other_row else T3_ROWS_V2021
    for row in rows:
        cells[t3_key(row, "total")] = sum(cells[t3_key(row, c)] for c in T3_COLUMNS[:-1])
    return cells


# --- section 四 -------------------------------------------------------------


def _section4(rng: random.Random, scale: int) -> dict[str, int]:
    cells: dict[str, int] = {}
    high = 3 if scale < 30 else 20 if scale < 1000 else 80
    for group in T4_GROUPS:
        total = rng.randint(1, high) if scale and rng.random() < 0.3 else 0
        parts = _split(rng, total, {"upheld": 6, "corrected": 1, "other": 2, "pending": 2})
        for outcome, count in parts.items():
            cells[f"t4_{group}_{outcome}"] = count
        cells[f"t4_{group}_total"] = total
    return cells


# --- blanks -----------------------------------------------------------------


def _random_blank_markers(rng: random.Random, cells: dict[str, int | float | None]) -> dict[str, str]:
    """Zero cells printed blank, "/" or "—" in some reports, as real bodies do (spec §7.8)."""
    policy = rng.choices(("none", "org_zeros_blank", "rules_slash", "scattered_dash"), (6, 2, 1, 1))[0]
    zero_keys = [k for k, v in cells.items() if v == 0]
    if policy == "org_zeros_blank":
        chosen = [
            k for k in zero_keys if k.startswith("t3_") and any(k.endswith("__" + c) for c in T3_ORG_COLUMNS)
        ]
        return dict.fromkeys(chosen, "")
    if policy == "rules_slash":
        return dict.fromkeys((k for k in zero_keys if k.startswith(("t2_rules", "t2v19_rules"))), "/")
    if policy == "scattered_dash":
        return {k: rng.choice(("—", "/", "", "-", "无")) for k in zero_keys if rng.random() < 0.15}
    return {}


# --- narrative --------------------------------------------------------------


def _preamble(rng: random.Random, truth: dict[str, Any]) -> str:
    year = truth["year"]
    notice = "国办公开办函〔2021〕30号" if truth["report_format"] == "v2021" else "国办公开办函〔2019〕60号"
    period = rng.choice(
        (
            f"本报告所列数据统计期限为{year}年1月1日至12月31日。",
            f"本年度报告中所列数据统计期限自{year}年1月1日起至{year}年12月31日止。",
            f"统计时限为{year}年1月1日至{year}年12月31日。",
        )
    )
    return (
        f"本报告根据《中华人民共和国政府信息公开条例》和《{notice}》要求编制，全文包括总体情况、主动公开政府信息情况、"
        "收到和处理政府信息公开申请情况、政府信息公开行政复议、行政诉讼情况、存在的主要问题及改进情况、"
        f"其他需要报告的事项六部分。{period}如对本报告有疑问，请与{truth['agency']}联系。"
    )


# Sentences with figures that are not table cells: a parser must not take them for cells, and
# their varying length moves the page breaks of the PDF renderings.
FILLER_SENTENCES = (
    "全年通过政府网站发布政务信息{n}条，其中政策文件{m}件。",
    "召开新闻发布会{m}场，发布政策解读材料{m}篇。",
    "政务新媒体累计发布信息{n}条，粉丝数量稳步增长。",
    "组织政务公开业务培训{m}次，参训人员{n}人次。",
    "办理人大代表建议和政协提案{m}件，办结率100%。",
    "12345热线转办事项{n}件，均已按时办结。",
)


def _filler(rng: random.Random) -> str:
    chosen = rng.sample(FILLER_SENTENCES, rng.randint(0, 3))
    return "".join(
        s.format(n=rng.choice((rng.randint(10, 999), rng.randint(1000, 20000))), m=rng.randint(1, 60))
        for s in chosen
    )


def _narrative(rng: random.Random, truth: dict[str, Any]) -> tuple[dict[str, str], dict[str, int]]:
    """Section texts whose stated figures agree with the tables (spec §6.6 sentence shapes)."""
    cells = truth["cells"]
    subject = "全区" if truth["report_kind"] == "summary" else rng.choice(("本机关", "我单位", ""))
    numbers = {
        "apps_received": cells[t3_key("new_received", "total")],
        "granted": cells[t3_key("granted", "total")],
        "partial": cells[t3_key("partial", "total")],
        "carried_forward": cells[t3_key("carried_forward", "total")],
        "reviews": cells["t4_review_total"],
        "suits": cells["t4_suit_direct_total"] + cells["t4_suit_after_review_total"],
    }
    normative_key = "t2_normative_issued" if truth["report_format"] == "v2021" else "t2v19_normative_new_made"
    numbers["normative_issued"] = cells[normative_key]
    if numbers["apps_received"]:
        apps = rng.choice(
            (
                f"{truth['year']}年，{subject}共收到政府信息公开申请{numbers['apps_received']}件",
                f"本年度{subject}新收政府信息公开申请{numbers['apps_received']}件",
            )
        )
        apps += f"，其中予以公开{numbers['granted']}件，部分公开{numbers['partial']}件，结转下年度继续办理{numbers['carried_forward']}件。"
    else:
        apps = f"{truth['year']}年{subject}未收到政府信息公开申请。"
    if numbers["reviews"] or numbers["suits"]:
        appeals = (
            f"因政府信息公开工作被申请行政复议{numbers['reviews']}件，被提起行政诉讼{numbers['suits']}件。"
        )
    else:
        appeals = "全年未发生因政府信息公开工作被申请行政复议、提起行政诉讼的情况。"
    one = (
        f"（一）主动公开。{subject}坚持以公开为常态、不公开为例外，全年制发行政规范性文件{numbers['normative_issued']}件，"
        "及时公开政策文件及解读材料。\n"
        f"（二）依申请公开。{apps}{appeals}\n"
        f"（三）政府信息管理。严格落实公开属性源头认定和保密审查机制。{_filler(rng)}\n"
        f"（四）平台建设。持续优化政府网站信息公开专栏，提升检索和办事服务功能。{_filler(rng)}\n"
        f"（五）监督保障。将政务公开纳入年度绩效考核，组织业务培训。{_filler(rng)}"
    )
    # Real section 五 texts run to a paragraph or more; under ~50 characters the validator
    # rightly asks for a human look (SEC-EMPTY-NARRATIVE).
    five = (
        "（一）存在的主要问题。一是主动公开的深度和广度有待加强；二是政策解读形式较为单一。"
        "（二）改进情况。下一步将加强业务培训，丰富解读形式，推动政务公开工作提质增效。"
        + rng.choice(("", "同时对照上年度报告所列问题逐项整改，整改情况已在门户网站公开。"))
    )
    fee_text = (
        "本年度未收取信息处理费。"
        if not cells.get(t3_key("other_no_fee", "total")) or rng.random() < 0.5
        else f"本年度收取信息处理费{rng.randint(1, 20) * 100}元。"
    )
    six = rng.choice(
        (fee_text, f"{fee_text}本年度认真落实政务公开工作要点，按时办理人大代表建议和政协提案。")
    )
    sections = {"1": one, "2": "", "3": "", "4": "", "5": five, "6": six}
    return sections, numbers


# --- self-check -------------------------------------------------------------


def arithmetic_violations(truth: dict[str, Any]) -> list[str]:
    """The §6.3–6.5 rules a truth breaks (empty for every truth `random_truth` makes).

    Null cells are skipped as the spec demands; blank/marker cells must hold 0.
    """
    cells = truth["cells"]
    problems = [f"marked cell {k} is {cells[k]}, not 0" for k in truth["blank_cells"] if cells[k] != 0]
    problems += [f"negative {k}" for k, v in cells.items() if v is not None and v < 0 and "_delta" not in k]
    single_other = cells.get(t3_key("other_all", "total")) is not None
    rows = T3_ROWS_V2019 if single_other else T3_ROWS_V2021
    result_rows = RESULT_ROWS_SINGLE_OTHER if single_other else RESULT_ROWS_V2021
    for row in rows:
        parts = sum(cells[t3_key(row, c)] for c in T3_COLUMNS[:-1])
        if parts != cells[t3_key(row, "total")]:
            problems.append(f"T3-ROWSUM-{row}: {parts} != {cells[t3_key(row, 'total')]}")
    for column in T3_COLUMNS:
        results = sum(cells[t3_key(row, column)] for row in result_rows)
        if results != cells[t3_key("total_processed", column)]:
            problems.append(f"T3-TOTALPROC-{column}: {results}")
        supply = cells[t3_key("new_received", column)] + cells[t3_key("carried_over", column)]
        demand = cells[t3_key("total_processed", column)] + cells[t3_key("carried_forward", column)]
        if supply != demand:
            problems.append(f"T3-BALANCE-{column}: {supply} != {demand}")
    if single_other and any(cells.get(t3_key(r, c)) is not None for r in OTHER_SUB_ROWS for c in T3_COLUMNS):
        problems.append("single （六） row but the sub-rows are not null")
    for group in T4_GROUPS:
        parts = sum(cells[f"t4_{group}_{o}"] for o in ("upheld", "corrected", "other", "pending"))
        if parts != cells[f"t4_{group}_total"]:
            problems.append(f"T4 {group}: {parts} != {cells[f't4_{group}_total']}")
    if truth["report_format"] == "v2021":
        fee = cells["t2_fee_amount_wan"]
        if round(fee, 4) != fee:
            problems.append(f"fee {fee} has more than 4 decimals")
        for doc in ("rules", "normative"):
            if cells[f"t2_{doc}_in_force"] < cells[f"t2_{doc}_issued"]:
                problems.append(f"T2-INFORCE-GE-ISSUED-{doc}")
    return problems


def with_agency(truth: dict[str, Any], agency: str) -> dict[str, Any]:
    """The same report printed under another agency's name (title, preamble, narrative)."""

    def renamed(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(truth["agency"], agency)
        if isinstance(value, dict):
            return {k: renamed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [renamed(v) for v in value]
        return value

    return renamed(truth) | {"agency": agency}
