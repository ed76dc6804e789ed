"""Narrative-versus-table rules (§6.6) and the other rules that read the narrative.

Statements are taken from section 一 only (where the template puts the year's figures);
placeholders and units are looked for in every narrative section. Each rule keeps the
extraction limits of §6.6 — see narrative_text.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from shared.report import Finding, ParsedReport, t3_key

from .catalogue import make_finding
from .cells import RESULT_GROUPS, CellReader, Number, fmt, other_rows, t3_layout
from .narrative_text import (
    NOT_APPLICATIONS,
    NUMBER,
    Figure,
    Scope,
    clause_end,
    clause_start,
    cn_number,
    figures_after,
    is_cumulative,
    other_period,
    percent_after,
    prepare,
    sentences,
    subject_scope,
)

NARRATIVE_SECTIONS = ("0", "1", "5", "6")

# --- application counts ---------------------------------------------------------

APPLICATION_OBJECT = re.compile(
    r"(?:依申请公开政府信息|政府信息公开|依申请公开|信息公开)申请|依申请公开(?!工作|办理|情况|方面|渠道|平台|制度|流程|事项)"
)
NEGATION_BEFORE_OBJECT = re.compile(
    r"(?:未|没有|尚未)(?:收到|接到|受理|接收|有|发生)?(?P<filler>[^,;:]*)$|无$"
)
# What may stand between "未收到" and its object without narrowing it: "公民、法人或其他组织提出的".
NEUTRAL_FILLER = re.compile(r"^(?:任何|过|有关|公民|法人|或|和|及|其他组织|个人|企业|提出|的|、|社会公众|群众|申请人|新的)*$")
# Verbs that make the figure the year's intake (the table's 一、本年新收) or its handling (（七）总计).
RECEIVED_VERB = re.compile(r"新收|受理|收到|接到|接收|收悉|登记")
PROCESSED_VERB = re.compile(r"办结|答复|回复|办理|处理|完成")
# Between object and figure: a result (同意公开答复N件 is the granted count, not the intake), a
# second thing counted with it (申请和咨询N件), or a subset (当面申请, 自然人申请) — not the total.
RESULT_IN_GAP = re.compile(r"公开|同意|不予|无法|部分|结转|转结|撤回|告知|驳回|延期|逾期|按时|按期")
COMBINED_IN_GAP = re.compile(r"及|和|、|与|或|以及|申请")
# What may stand between a count's keyword and its figure and leave the count as it is
# ("申请数量为3件", "申请共计3件", "依申请公开办结4件"); anything else ("数量较上年增加5件",
# "最多的为某局15件", "答复书3份") makes it another figure.
FILLER_GAP = re.compile(
    r"^(?:共计?|合计|总计|总数|总量|件数|数量|受理量|数|为|达到?|了|计|累计|是|约|近|有|本年度?|全年|年内|新收|受理|收到|"
    r"接收|接到|办结|答复|办理|回复|完成|处理|并|已|均|全部|请求|件|的|总件数)*$"
)
SUBSET_BEFORE = re.compile(
    r"其中|网上|网络|在线|当面|现场|信函|邮寄|邮件|传真|电话|平台|渠道|窗口|自然人|法人|企业|公民|律师|个人|转办|转来|转交"
)
# "共收到3件政府信息公开申请", "收到8份申请": the figure before its object.
RECEIVED_BEFORE_OBJECT = re.compile(
    rf"(?P<verb>新收|受理|收到|接到|接收)(?P<gap>[了共计到]{{0,3}})(?P<num>{NUMBER})\s?(?:件|份|宗)的?"
    r"(?P<object>(?:依申请公开政府信息|政府信息公开|依申请公开|信息公开)?申请)(?!人|书|表|材料|事项)"
)
# "受理申请859件" inside a paragraph on 依申请公开: a bare object, so the statement is unclear.
BARE_APPLICATION = re.compile(r"(?:新收|受理|收到|接到|接收)到?申请(?!人|书|表|材料|事项)")
# "…申请25件，其中新收23件": the intake named inside an application sentence.
NEW_RECEIVED = re.compile(r"(?:本年度?|年内|当年)?新(?:收到?|接收|受理)(?!政府信息|依申请|信息公开|申请)")
# "…受理申请1295件，办结1191件": the handled count named inside an application sentence.
PROCESSED_COUNT = re.compile(r"(?<!正在)(?<!仍在)(?<![未中])(?:办结|答复|回复|办理)(?:完毕|了)?(?!率|时限|期限|结果|情况|中)")
ABOUT_APPLICATIONS = re.compile(r"信息公开申请|依申请公开|政府信息公开")

Quantity = Literal["received", "processed"]


@dataclass(frozen=True)
class AppStatement:
    """A count of applications for government information stated in section 一."""

    quantity: Quantity  # the year's intake (一、本年新收) or the handled total (（七）总计)
    value: float | None  # None: "未收到…申请" (zero, without a figure)
    quote: str
    this_year: bool  # not cumulative ("截至…累计")
    scope: Scope  # whose figure: this report's body, a part of it (summary), or unclear
    clear: bool  # a receiving verb and a 政府信息公开/依申请公开 object: the intake beyond doubt

    @property
    def decisive(self) -> bool:
        """Clear enough that a mismatch means a wrong number (error); otherwise at most a warning."""
        return self.clear and self.this_year and self.scope == "own"


def _clause_prefix(sentence: str, pos: int) -> str:
    return sentence[clause_start(sentence, pos) : pos]


def _skip_period_or_kind(sentence: str, pos: int, year: int | None, within: bool = False) -> bool:
    """Another year's, a part of the year's, or another thing's figure (信访, 热线, 网上申请 …): not compared.

    `within`: the keyword names a part of the sentence's total by itself ("其中新收23件"), so 其中 is no subset.
    """
    prefix = _clause_prefix(sentence, pos)
    subset = SUBSET_BEFORE.search(prefix[-8:].replace("其中", "") if within else prefix[-8:])
    return other_period(sentence[:pos], year) or bool(NOT_APPLICATIONS.search(prefix[-12:])) or bool(subset)


def application_statements(text: str, year: int | None, summary: bool, agency: str | None) -> list[AppStatement]:
    out: list[AppStatement] = []
    previous = ""
    for sentence in sentences(text):
        about = bool(ABOUT_APPLICATIONS.search(sentence) or ABOUT_APPLICATIONS.search(previous))
        previous = sentence
        found = _object_first(sentence, year, summary, agency)
        found += _object_after(sentence, year, summary, agency)
        if about:
            found += _bare_or_inner(sentence, year, summary, agency, has_object=bool(found))
        seen: set[tuple[str, float | None, str]] = set()
        for s in found:
            if s.scope != "other" and (s.quantity, s.value, s.quote) not in seen:
                seen.add((s.quantity, s.value, s.quote))
                out.append(s)
    return out


def _object_first(sentence: str, year: int | None, summary: bool, agency: str | None) -> list[AppStatement]:
    """"(共)?(收到|受理|新收…)政府信息公开申请N件" and "未收到…申请" (§6.6)."""
    out = []
    for m, fig in figures_after(sentence, APPLICATION_OBJECT, units="件|份|宗"):
        prefix = _clause_prefix(sentence, m.start())
        negated = NEGATION_BEFORE_OBJECT.search(prefix)
        if negated and negated.group("filler") is not None and not NEUTRAL_FILLER.match(negated.group("filler")):
            continue  # "未收到涉及X的申请" is about a kind of application, not all of them
        if _skip_period_or_kind(sentence, m.start(), year):
            continue
        scope = subject_scope(sentence[: m.start()], summary, agency)
        if negated:
            follow = sentence[m.end() : clause_end(sentence, m.end())]
            if re.match(r"的(?!情况|情形)", follow) or NOT_APPLICATIONS.search(follow):
                continue  # "未收到政府信息公开申请的投诉举报": no claim about the applications
            if fig is None:  # "年内未收到…申请1件" contradicts itself and counts nothing
                out.append(AppStatement("received", None, sentence[clause_start(sentence, m.start()) :
                                                                   clause_end(sentence, m.end())],
                                        not is_cumulative(prefix), scope, clear=True))
            continue
        if fig is None or NOT_APPLICATIONS.search(fig.gap) or COMBINED_IN_GAP.search(fig.gap):
            continue
        if RESULT_IN_GAP.search(fig.gap):
            continue  # "依申请公开同意公开答复N件": a result, read by check_results
        if not FILLER_GAP.match(fig.gap):
            continue
        if PROCESSED_VERB.search(fig.gap):
            quantity: Quantity = "processed"  # "依申请公开办结N件"
        elif RECEIVED_VERB.search(prefix) or RECEIVED_VERB.search(fig.gap):
            quantity = "received"
        elif PROCESSED_VERB.search(prefix):
            quantity = "processed"  # "共办理政府信息公开申请N件"
        else:
            quantity = "received"
        clear = quantity == "received" and bool(RECEIVED_VERB.search(prefix) or re.search(r"数量?为|总数", fig.gap))
        out.append(AppStatement(quantity, fig.value, fig.quote, not is_cumulative(prefix), scope, clear))
    return out


def _object_after(sentence: str, year: int | None, summary: bool, agency: str | None) -> list[AppStatement]:
    """"共收到3件政府信息公开申请", "共收到8份申请"."""
    out = []
    for m in RECEIVED_BEFORE_OBJECT.finditer(sentence):
        value = cn_number(m.group("num"))
        prefix = _clause_prefix(sentence, m.start())
        if value is None or _skip_period_or_kind(sentence, m.start(), year):
            continue
        quote = sentence[clause_start(sentence, m.start()) : m.end()]
        clear = m.group("object") != "申请"
        out.append(AppStatement("received", value, quote, not is_cumulative(prefix),
                                subject_scope(sentence[: m.start()], summary, agency), clear))
    return out


def _bare_or_inner(
    sentence: str, year: int | None, summary: bool, agency: str | None, has_object: bool
) -> list[AppStatement]:
    """Counts named without their object in a sentence about applications: never decisive alone."""
    out = []
    keywords: list[tuple[re.Pattern[str], Quantity, bool]] = [(BARE_APPLICATION, "received", False)]
    if has_object:
        keywords += [(NEW_RECEIVED, "received", True), (PROCESSED_COUNT, "processed", False)]
    for keyword, quantity, clear in keywords:
        for m, fig in figures_after(sentence, keyword, units="件|份|宗", max_gap=4):
            if fig is None or not FILLER_GAP.match(fig.gap.replace("申请", "")):
                continue
            prefix = _clause_prefix(sentence, m.start())
            if (_skip_period_or_kind(sentence, m.start(), year, within=keyword is NEW_RECEIVED)
                    or RESULT_IN_GAP.search(fig.gap + prefix)):
                continue
            if quantity == "processed" and (RESULT_KEYWORDS.search(prefix) or re.search(r"[^,;:]申请", prefix)):
                continue  # "予以公开答复2件", "…申请办理2件" was read with its object
            out.append(AppStatement(quantity, fig.value, fig.quote, not is_cumulative(prefix),
                                    subject_scope(sentence[: m.start()], summary, agency), clear))
    return out


def _t3_total(reader: CellReader, row: str) -> Number | None:
    return reader.value(t3_key(row, "total"))


def check_applications(report: ParsedReport, statements: list[AppStatement]) -> list[Finding]:
    """NARR-APPS / NARR-ZERO-APPS on the year's intake; handled counts go to check_results."""
    reader = CellReader(report)
    new = _t3_total(reader, "new_received")
    carried = _t3_total(reader, "carried_over")
    processed = _t3_total(reader, "total_processed")
    received = [s for s in statements if s.quantity == "received"]
    out: list[Finding] = []
    out += _all_zero_but_text(report, received)
    if new is None:
        return out
    candidates: set[Number] = {v for v in (new, processed, None if carried is None else new + carried) if v is not None}
    # A part of the jurisdiction (summary report) is checked only against the whole: it cannot exceed it.
    zero_claims = [s for s in received if s.value in (None, 0) and s.scope != "part"]
    if new > 0 and zero_claims:
        s = min(zero_claims, key=lambda s: not s.decisive)
        out.append(make_finding(
            "NARR-ZERO-APPS",
            f"正文“{s.quote}”，但表三本年新收{fmt(new)}件",
            f"text says '{s.quote}' but table 三 shows {fmt(new)} new applications",
            ["t3_new_received__total"], severity="error" if s.decisive else "warning"))
    mismatched = [s for s in received if s.value and (
        s.value > max(candidates) if s.scope == "part" else s.value not in candidates)]
    if mismatched:
        s = min(mismatched, key=lambda s: not s.decisive)
        stated = s.value or 0
        shown = "、".join(fmt(c) for c in sorted(candidates))
        part = "（部分机关的数字，却大于全表）" if s.scope == "part" else ""
        out.append(make_finding(
            "NARR-APPS",
            f"正文“{s.quote}”称{fmt(stated)}件{part}，表三本年新收{fmt(new)}件、上年结转{fmt(carried or 0)}件、"
            f"办理{fmt(processed or 0)}件（可接受：{shown}）",
            f"text '{s.quote}' states {fmt(stated)}{' for a part, more than the whole' if part else ''}; "
            f"table 三: new {fmt(new)}, carried-in {fmt(carried or 0)}, "
            f"processed {fmt(processed or 0)} (accepted: {shown})",
            ["t3_new_received__total", "t3_carried_over__total", "t3_total_processed__total"],
            severity="error" if s.decisive else "warning"))
    return out


def _all_zero_but_text(report: ParsedReport, statements: list[AppStatement]) -> list[Finding]:
    t3_values = [v for k, v in report.cells.items() if k.startswith("t3_") and v is not None]
    if not t3_values or any(v != 0 for v in t3_values):
        return []
    stated = [s for s in statements if s.value and s.decisive]
    if not stated:
        return []
    return [make_finding(
        "T3-ALL-ZERO-BUT-TEXT", f"正文“{stated[0].quote}”，但表三全部为0",
        f"text says '{stated[0].quote}' but every table-三 cell is 0", ["t3_new_received__total"])]


# --- results -------------------------------------------------------------------

RESULT_KEYWORDS = re.compile(
    r"(?P<granted_partial>(?:予以|同意)公开(?:及|和|与|、|或)部分公开)|(?P<granted>(?<!不)予以公开)"
    r"|(?P<agreed>(?<!不)同意(?:予以)?公开)|(?P<partial>部分公开)"
    r"|(?P<denied>不予公开)|(?P<unable>无法提供)|(?P<ignored>不予处理)|(?P<other>其他处理)"
    r"|(?P<carried_over>上一?年度?(?:结转|转结))"
    r"|(?P<carried_forward>(?:结转|转结|转入)(?:至|到)?下一?年度?(?:继续)?(?:办理)?)"
)
COMPARISON = re.compile(r"较|比|同比|环比|增加|减少|增长|下降|上升|持平|最多|最少")
RESULT_ZH = {
    "granted_partial": "予以公开及部分公开", "granted": "予以公开", "agreed": "予以公开（或予以公开及部分公开）",
    "partial": "部分公开", "denied": "不予公开", "unable": "无法提供", "ignored": "不予处理", "other": "其他处理",
    "carried_over": "上年结转", "carried_forward": "结转下年度", "processed": "办理总计（或本年新收+上年结转）",
}


def _result_rows(reader: CellReader, quantity: str) -> tuple[str, ...]:
    groups = {**RESULT_GROUPS, "other": other_rows(t3_layout(reader.report)), "granted_partial": ("granted", "partial"),
              "agreed": ("granted",), "carried_over": ("carried_over",), "carried_forward": ("carried_forward",),
              "processed": ("total_processed",)}
    return tuple(groups[quantity])


def table_result(reader: CellReader, quantity: str) -> Number | None:
    """The table's figure for a narrative quantity; a blank row total falls back to its parts."""
    total: Number = 0
    for row in _result_rows(reader, quantity):
        v = reader.value(t3_key(row, "total"))
        if v is None:
            return None
        if reader.is_blank(t3_key(row, "total")):
            parts = reader.total(t3_key(row, c) for c in ("natural", "org_business", "org_research", "org_ngo",
                                                          "org_legal", "org_other"))
            v = parts if parts is not None else v
        total += v
    return total


def accepted_results(reader: CellReader, quantity: str) -> list[Number]:
    """The table figures a stated count may equal: "同意公开" is 予以公开 alone or with 部分公开;
    a handled count (办结/答复/办理) is （七）总计, everything there was to handle, or — as in
    "收到申请3件，均已答复3件" — the year's new applications only."""
    if quantity == "agreed":
        options = [table_result(reader, "granted"), table_result(reader, "granted_partial")]
    elif quantity == "processed":
        new, carried = _t3_total(reader, "new_received"), _t3_total(reader, "carried_over")
        options = [table_result(reader, "processed"), new, None if new is None or carried is None else new + carried]
    else:
        options = [table_result(reader, quantity)]
    return [v for v in options if v is not None]


def result_figures(text: str, year: int | None, summary: bool, agency: str | None) -> list[tuple[str, Figure]]:
    out = []
    previous = ""
    for sentence in sentences(text):
        about_applications = "申请" in sentence or "申请" in previous
        previous = sentence
        if not about_applications:
            continue
        for m, fig in figures_after(sentence, RESULT_KEYWORDS):
            if fig is None or re.search(r"率|%|比例|条", fig.gap) or RESULT_KEYWORDS.search(fig.gap):
                continue
            quantity = m.lastgroup or ""
            prefix = fig.clause_prefix
            if quantity != "carried_over" and other_period(sentence[: m.start()], year):
                continue
            if is_cumulative(prefix) or NOT_APPLICATIONS.search(fig.gap) or COMPARISON.search(fig.gap):
                continue
            if subject_scope(sentence[: m.start()], summary, agency) in ("part", "other"):
                continue
            out.append((quantity, fig))
    return out


def check_results(report: ParsedReport, text: str, statements: list[AppStatement]) -> list[Finding]:
    """NARR-RESULTS: stated result counts, and handled totals (办结/答复 N件), against table 三."""
    reader = CellReader(report)
    stated = [(q, f.value, f.quote) for q, f in result_figures(text, report.year, report.report_kind == "summary",
                                                                report.agency)]
    stated += [("processed", s.value, s.quote) for s in statements
               if s.quantity == "processed" and s.value is not None and s.scope != "part"]
    mismatches = []
    for quantity, value, quote in stated:
        accepted = accepted_results(reader, quantity)
        if accepted and all(abs(t - value) > 1e-9 for t in accepted):
            mismatches.append((quantity, value, quote, accepted[0]))
    if not mismatches:
        return []
    zh = "；".join(f"“{quote}”而表三{RESULT_ZH[q]}为{fmt(t)}" for q, _, quote, t in mismatches)
    en = "; ".join(f"'{quote}' but table 三 {q} = {fmt(t)}" for q, _, quote, t in mismatches)
    cells = [t3_key(row, "total") for q, *_ in mismatches for row in _result_rows(reader, q)]
    return [make_finding("NARR-RESULTS", zh, en, cells)]


def check_percentages(report: ParsedReport, text: str) -> list[Finding]:
    reader = CellReader(report)
    new, carried, processed = (_t3_total(reader, r) for r in ("new_received", "carried_over", "total_processed"))
    bases = [b for b in (processed, new, (new + carried) if new is not None and carried is not None else None) if b]
    if not bases:
        return []
    wrong = []
    for _, fig in result_figures(text, report.year, report.report_kind == "summary", report.agency):
        stated = percent_after(fig)
        if stated is None:
            continue
        pct, decimals = stated
        tolerance = max(0.05, 0.5 * 10**-decimals) + 1e-9
        if all(abs(fig.value / b * 100 - pct) > tolerance for b in bases):
            wrong.append((fig, pct))
    if not wrong:
        return []
    base = bases[0]
    zh = "；".join(f"“{f.quote}”占{fmt(p)}%，而{fmt(f.value)}/{fmt(base)}={f.value / base * 100:.2f}%" for f, p in wrong)
    en = "; ".join(f"'{f.quote}' {fmt(p)}%, but {fmt(f.value)}/{fmt(base)} = {f.value / base * 100:.2f}%" for f, p in wrong)
    return [make_finding("NARR-PERCENT", zh, en, ["t3_total_processed__total"])]


# --- appeals -------------------------------------------------------------------

APPEAL_KEYWORDS = re.compile(
    r"(?P<both>行政复议(?:、|和|及|或|与|以及)(?:被?提起)?行政诉讼(?:案件)?)|(?P<review>行政复议(?:案件)?)"
    r"|(?P<suit>行政诉讼(?:案件)?)"
)
APPEAL_NEGATION = re.compile(r"(?:未发生|未有|没有|无|未出现|未被|未收到|未接到|未涉及)[^\d,;]{0,20}$")
OUTCOME_WORDS = re.compile(r"纠错|纠正|撤销|败诉|确认违法")
OUTCOME_IN_GAP = re.compile(r"维持|纠错|纠正|撤销|败诉|胜诉|违法|审结|结果|决定|率|诉讼|复议")
REVIEW_ORGAN = re.compile(r"(?:收到|受理|办理|审理|接到|接收|承办|审结)[^被]{0,3}$")
ALL_UPHELD = re.compile(r"(?:均|全部|都)(?:获|被|予以)?维持")
T4_TOTALS = {"review": ("t4_review_total",), "suit": ("t4_suit_direct_total", "t4_suit_after_review_total")}
T4_CORRECTED = {"review": ("t4_review_corrected",), "suit": ("t4_suit_direct_corrected", "t4_suit_after_review_corrected")}


def _counts_include_carried_over(report: ParsedReport) -> bool:
    text = prepare(" ".join(report.sections.values()))
    return bool(re.search(r"(?:行政复议|行政诉讼|复议|诉讼)[^。]{0,12}含上一?年度?结转", text))


def check_appeals(report: ParsedReport, text: str) -> list[Finding]:
    reader = CellReader(report)
    summary = report.report_kind == "summary"
    problems: list[tuple[str, str, list[str], bool]] = []  # zh, en, cells, strict (error-capable)
    for sentence in sentences(text):
        groups_with_figures: set[str] = set()
        for m, fig in figures_after(sentence, APPEAL_KEYWORDS, units="件|起|宗|次|个"):
            kind = m.lastgroup or ""
            groups = ("review", "suit") if kind == "both" else (kind,)
            prefix = _clause_prefix(sentence, m.start())
            scope = subject_scope(sentence[: m.start()], summary, report.agency)
            if scope == "other" or other_period(sentence[: m.start()], report.year):
                continue
            part = scope == "part"
            if APPEAL_NEGATION.search(prefix):
                if not part:  # a part of the jurisdiction without cases says nothing of the whole
                    problems += _negated_appeals(reader, sentence, m, groups, scope == "unclear")
                continue
            if fig is None or OUTCOME_IN_GAP.search(fig.gap.replace("各", "")) or COMPARISON.search(fig.gap):
                continue
            if is_cumulative(prefix):
                continue
            if REVIEW_ORGAN.search(prefix):
                continue  # "收到行政复议申请N件": the body deciding others' reviews, not table 四's cases
            groups_with_figures.update(groups)
            problems += _stated_appeals(reader, fig, groups, each="各" in fig.gap, part=part)
        if groups_with_figures and ALL_UPHELD.search(sentence):
            # "行政复议7件，诉讼9件，均获维持": the closing words cover every group the sentence names.
            named = {g for g, word in (("review", "复议"), ("suit", "诉讼")) if word in sentence}
            problems += _all_upheld(reader, sentence, groups_with_figures | named)
    problems = list({p[0]: p for p in problems}.values())  # one sentence may name a group twice
    if not problems:
        return []
    strict = any(p[3] for p in problems) and not _counts_include_carried_over(report)
    cells = sorted({c for p in problems for c in p[2]})
    return [make_finding("NARR-APPEALS", "；".join(p[0] for p in problems), "; ".join(p[1] for p in problems),
                         cells, severity="error" if strict else "warning")]


def _negated_appeals(
    reader: CellReader, sentence: str, m: re.Match[str], groups: tuple[str, ...], unclear: bool
) -> list[tuple[str, str, list[str], bool]]:
    clause = sentence[clause_start(sentence, m.start()) : clause_end(sentence, m.end())]
    tail = sentence[m.start() : clause_end(sentence, m.end())]
    # "…行政复议、行政诉讼" may be spelled across the clause: take every group named in it.
    named = {g for g, word in (("review", "复议"), ("suit", "诉讼")) if word in tail} | set(groups)
    # With an outcome word the sentence speaks of outcomes only (§6.6 NARR-APPEALS).
    cells_by_group = T4_CORRECTED if OUTCOME_WORDS.search(tail) else T4_TOTALS
    out = []
    for g in sorted(named):
        value = reader.total(cells_by_group[g])
        if value is not None and value > 0:
            keys = list(cells_by_group[g])
            out.append((f"正文“{clause}”，但表四 {'+'.join(keys)}={fmt(value)}",
                        f"text '{clause}' but table 四 {' + '.join(keys)} = {fmt(value)}", keys, not unclear))
    return out


def _stated_appeals(
    reader: CellReader, fig: Figure, groups: tuple[str, ...], each: bool, part: bool
) -> list[tuple[str, str, list[str], bool]]:
    """Stated counts against table 四; a part of the jurisdiction only when it exceeds the whole."""
    if each or len(groups) == 1:
        checks = [(T4_TOTALS[g]) for g in groups]
    else:
        checks = [T4_TOTALS["review"] + T4_TOTALS["suit"]]
    out = []
    for keys in checks:
        table = reader.total(keys)
        if table is not None and (fig.value > table if part else abs(table - fig.value) > 1e-9):
            out.append((f"正文“{fig.quote}”，表四 {'+'.join(keys)}={fmt(table)}",
                        f"text '{fig.quote}', table 四 {' + '.join(keys)} = {fmt(table)}", list(keys), not part))
    return out


def _all_upheld(reader: CellReader, sentence: str, groups: set[str]) -> list[tuple[str, str, list[str], bool]]:
    out = []
    for g in sorted(groups):
        prefixes = ["t4_review"] if g == "review" else ["t4_suit_direct", "t4_suit_after_review"]
        for p in prefixes:
            upheld, total = reader.value(f"{p}_upheld"), reader.value(f"{p}_total")
            if upheld is not None and total is not None and upheld != total:
                out.append((f"正文称“均获维持”，但表四 {p}_upheld={fmt(upheld)}、{p}_total={fmt(total)}",
                            f"text says all were upheld, but table 四 {p}_upheld = {fmt(upheld)}, {p}_total = {fmt(total)}",
                            [f"{p}_upheld", f"{p}_total"], False))
    return out


# --- section 二 statements ---------------------------------------------------------

NORMATIVE_ISSUED = re.compile(r"(?:制发|印发|出台|制定)了?(?:行政)?规范性文件")
NO_POWER = re.compile(
    r"(?:无|没有|不具有|不具备|不承担)(?P<what>(?:行政许可|行政处罚|行政强制)(?:(?:、|和|及|或)(?:行政许可|行政处罚|行政强制))*)"
    r"等?的?(?:职权|权限|职能|权力|事权)"
)
POWER_CELLS = {
    "v2021": {"行政许可": "t2_license_decisions", "行政处罚": "t2_penalty_decisions", "行政强制": "t2_coercion_decisions"},
    "v2019": {"行政许可": "t2v19_license_decisions", "行政处罚": "t2v19_penalty_decisions",
              "行政强制": "t2v19_coercion_decisions"},
}


def check_normative(report: ParsedReport, text: str) -> list[Finding]:
    key = {"v2021": "t2_normative_issued", "v2019": "t2v19_normative_new_made"}.get(report.report_format)
    table = report.cells.get(key) if key else None
    if key is None or table is None:
        return []
    for sentence in sentences(text):
        for m, fig in figures_after(sentence, NORMATIVE_ISSUED, units="件|份|个"):
            if fig is None or re.search(r"和|及|、|其他|废止|清理|修订|备案|累计|解读", fig.gap) or COMPARISON.search(fig.gap):
                continue
            prefix = fig.clause_prefix
            if is_cumulative(prefix) or other_period(sentence[: m.start()], report.year):
                continue
            if subject_scope(sentence[: m.start()], report.report_kind == "summary", report.agency) in ("part", "other"):
                continue
            if fig.value != table:
                return [make_finding("NARR-NORMATIVE", f"正文“{fig.quote}”，表二 {key}={fmt(table)}",
                                     f"text '{fig.quote}', table 二 {key} = {fmt(table)}", [key])]
    return []


def check_no_power(report: ParsedReport, text: str) -> list[Finding]:
    cells = POWER_CELLS.get(report.report_format)
    if not cells:
        return []
    for m in NO_POWER.finditer(text):
        nonzero = [cells[w] for w in cells if w in m.group("what") and (report.cells.get(cells[w]) or 0) > 0]
        if nonzero:
            shown = "、".join(f"{k}={fmt(report.cells[k] or 0)}" for k in nonzero)
            return [make_finding("T2-LICENSE-NO-POWER", f"正文“{m.group(0)}”，但 {shown}",
                                 f"text '{m.group(0)}' but {shown.replace('、', ', ')}", nonzero)]
    return []


# --- fees, units, placeholders, cumulative figures ------------------------------------

FEE_CHARGED = re.compile(r"收取(?:了)?(?:信息处理费|信息公开处理费)[^,;。]{0,6}?(\d+(?:\.\d+)?)元")
FEE_NOT_CHARGED = re.compile(r"未(?:收取|收缴|产生)[^,;。]{0,10}?(?:信息处理费|信息公开处理费)")


def check_fee(report: ParsedReport, prepared: dict[str, str]) -> list[Finding]:
    out = []
    section_six = prepared.get("6", "")
    misplaced = [n for n, t in prepared.items() if n not in ("6", "0") and FEE_CHARGED.search(t)]
    if misplaced and "处理费" not in section_six:
        out.append(("信息处理费写在第" + "、".join(misplaced) + "部分，应在第六部分报告",
                    f"information-processing fee stated in section(s) {', '.join(misplaced)}, not in section 六"))
    no_fee_closures = report.cells.get("t3_other_no_fee__total")
    if FEE_NOT_CHARGED.search(section_six) and no_fee_closures:
        out.append((f"第六部分称未收取信息处理费，但表三“逾期未缴费”{fmt(no_fee_closures)}件，需说明",
                    f"section 六 says no fee was charged, but {fmt(no_fee_closures)} applications were closed for non-payment"))
    if not out:
        return []
    return [make_finding("NARR-FEE", "；".join(z for z, _ in out), "; ".join(e for _, e in out),
                         ["t3_other_no_fee__total"] if no_fee_closures else [])]


WAN_FIGURE = re.compile(r"(\d+)万(条|件|个)")


def check_units(prepared: dict[str, str]) -> list[Finding]:
    for text in prepared.values():
        for m in WAN_FIGURE.finditer(text):
            unit = m.group(2)
            window = text[m.end() : m.end() + 200].split("。", 2)
            following = "。".join(window[:2])
            parts = [int(x) for x in re.findall(rf"(\d+){unit}", following)]
            stated = int(m.group(1))
            running = 0
            for i, p in enumerate(parts[:6]):
                running += p
                if i >= 1 and running == stated:
                    listed = "+".join(str(x) for x in parts[: i + 1])
                    return [make_finding("NARR-UNIT", f"“{m.group(0)}”，而分项{listed}={stated}{unit}",
                                         f"'{m.group(0)}' while the parts {listed} = {stated} {unit}")]
    return []


PLACEHOLDER_GAP = re.compile(r"[\u4e00-\u9fff][ \u3000\u00a0\t]{2,}(?:条|件|个|篇|期|场|项|元)")
PLACEHOLDER_LITERAL = re.compile(r"[\u4e00-\u9fff](?:XX|××|xx|X|N|Ｘ|ＸＸ)(?:件|条)")


def check_placeholders(report: ParsedReport) -> list[Finding]:
    hits = []
    for number in NARRATIVE_SECTIONS:
        for line in report.sections.get(number, "").splitlines():
            m = PLACEHOLDER_GAP.search(line) or PLACEHOLDER_LITERAL.search(line)
            if m:
                hits.append(line.strip()[:60])
    if not hits:
        return []
    return [make_finding("NARR-PLACEHOLDER", "；".join(f"“{h}”" for h in hits), "; ".join(f"'{h}'" for h in hits))]


CUMULATIVE = re.compile(
    r"(?:截止|截至)[^,;。]{0,12}?(?:年底|年末)[^,;。]{0,4}?(?:累计|共|总共|共计)[^,;。]{0,6}?"
    r"(?:主动公开|受理|收到|办理|答复|公开|发布)[^,;。]{0,20}?\d+"
    r"|历年累计[^,;。]{0,20}?\d+"
)


def check_cumulative(text: str) -> list[Finding]:
    quotes = [m.group(0) for m in CUMULATIVE.finditer(text)]
    if not quotes:
        return []
    return [make_finding("META-PERIOD-CUMULATIVE", "；".join(f"“{q}”" for q in quotes),
                         "; ".join(f"'{q}'" for q in quotes))]


def check_narrative(report: ParsedReport) -> list[Finding]:
    """Every narrative-reading rule; nothing when the report carries no narrative text."""
    if not report.sections:
        return []
    prepared = {n: prepare(t) for n, t in report.sections.items() if n in NARRATIVE_SECTIONS}
    overview = prepared.get("1", "")
    out: list[Finding] = []
    if report.report_format != "pre2019":
        statements = application_statements(overview, report.year, report.report_kind == "summary", report.agency)
        out += check_applications(report, statements)
        out += check_results(report, overview, statements)
        out += check_percentages(report, overview)
        out += check_appeals(report, overview)
        out += check_normative(report, overview)
        out += check_no_power(report, " ".join(prepared.values()))
        out += check_fee(report, prepared)
    out += check_units(prepared)
    out += check_placeholders(report)
    out += check_cumulative(overview)
    return out
