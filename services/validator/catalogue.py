"""The rule catalogue: one entry per rule family of the domain spec §6.

Every finding the validator emits is built through `make_finding`, so its ID, default
severity and headline messages always come from this single table (and `nianbao rules` /
docs/rules.md show exactly what the code does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from shared.report import UNCERTAIN_BELOW, Finding, Severity


@dataclass(frozen=True)
class RuleSpec:
    id: str  # family as written in §6, placeholders kept: "T3-BALANCE-<c>"
    family: str  # META, SEC, TBL, NUM, T2, T3, T4, NARR, XY, PEER, AGG, PARSE
    severity: Severity  # default; the description says when it changes
    message_zh: str
    message_en: str
    description: str
    why: str = ""  # why the rule sits at its level (docs/rules.md, `nianbao rules`)

    @property
    def prefix(self) -> str:
        """The fixed part of the ID: expanded IDs start with it ("T3-BALANCE-")."""
        return self.id.split("<", 1)[0]

    @property
    def is_expanded(self) -> bool:
        return "<" in self.id


# A rule added without its own reason still says what its level means.
LEVEL_MEANING: dict[str, str] = {
    "error": "The report cannot be right as printed: it is rejected and goes back to the agency.",
    "warning": "A person must decide: the report waits for review.",
    "notice": "A harmless deviation that changes no number: recorded, shown and counted per agency, not held.",
    "info": "A fact worth showing; not a deviation.",
}


def _r(rule_id: str, severity: Severity, zh: str, en: str, description: str, *, why: str = "") -> RuleSpec:
    return RuleSpec(rule_id, rule_id.split("-", 1)[0], severity, zh, en, description, why or LEVEL_MEANING[severity])


_C = "<c> ∈ natural, org_business, org_research, org_ngo, org_legal, org_other, total"
_ROW = "<row> ∈ the table-三 rows of the report's layout (25 in v2021, 23 in v2019/hybrid with other_all)"

RULES: tuple[RuleSpec, ...] = (
    # §6.1 structure and metadata
    _r("META-AGENCY", "error", "未能识别报告主体（机关名称）", "Reporting agency name missing",
       "The parser found no agency name in the title or preamble.",
       why='Without the agency the report cannot be filed, published or compared: it has to come back.'),
    _r("META-AGENCY-MISMATCH", "warning", "报告所署机关与提交单位不一致",
       "The report names another agency than the one it was submitted for",
       "The upload was made for agency A (the uploader token's agency, or the `agency` field checked against the token) but the title names B, also after aliases and leaving off leading place names. Warning, so a person decides: a renamed body (add an alias) or one agency sending another's report. Versions and superseding always follow the agency of the upload, so the report can never replace B's.",
       why="Which agency a report belongs to decides who it is published for: a person decides between a renamed body (add an alias) and another agency's report."),
    _r("META-YEAR", "error", "报告年度缺失或不合理", "Report year missing or impossible",
       "No year, a year before 2008, a year after (as_of year − 1), or a title year that differs from the report year.",
       why='The year decides the format, the deadlines and every cross-year check; a wrong year makes the report a different report.'),
    _r("META-PERIOD", "error", "统计期限与报告年度不一致", "Statistics period does not match report year",
       "A stated statistics period must be YYYY-01-01..YYYY-12-31 of the report year (an end date without year takes the start's year).",
       why="Figures over another period are not this year's figures: every number would be wrong."),
    _r("META-PERIOD-CUMULATIVE", "warning", "年报数据应为本年度数据，不应为累计数",
       "Cumulative figures used where annual ones are required",
       "Narrative states a count as '截止…累计/共' or '历年累计' for disclosure or application figures.",
       why='Cumulative figures may have slipped into the tables too; only a person reading the report can tell.'),
    _r("META-PUBDATE-EARLY", "error", "发布日期早于统计期结束", "Published before the statistics period ended",
       "Publication date ≤ 31 Dec of the report year; skipped when no publication date is known.",
       why="A report published before its year ended cannot hold that year's full figures."),
    _r("META-PUBDATE-LATE", "notice", "超过法定发布时限", "Published after the legal deadline",
       "summary → 31 Mar Y+1; agency of a 县级以上 body → 31 Jan Y+1; Y ≤ 2018 → 31 Mar Y+1. Skipped for 乡/镇/街道, unknown level or unknown date.",
       why="Lateness changes no number and no reviewer can undo it: recorded and counted for next year's guidance."),
    _r("META-FORMAT-YEAR", "warning", "使用的表格格式与报告年度不符", "Table format does not fit the report year",
       "Format (from section 二 headers) ≠ expected for the year; error only for v2021 in a year ≤ 2020. A hybrid is v2021.",
       why='The wrong table format may mean wrong columns; a person checks which figures the agency meant. A v2021 table before 2021 cannot be right (error).'),
    _r("META-CITED-DOC", "warning", "引用的格式文件与年度不符", "Cited format notice does not fit the year",
       "Text cites 国办公开办函〔2019〕60号 for a ≥2021 report or 〔2021〕30号 for a ≤2020 report.",
       why='Citing the wrong format notice often comes with the wrong tables; a person checks.'),
    _r("SEC-MISSING-<n>", "warning", "缺少第n部分", "Section n missing",
       "<n> ∈ 1…6. Sections 2–4 also count as present when their table was read; section 5 when sub-headings naming 问题 and 改进/整改 exist. Skipped when no narrative text was extracted at all.",
       why='A missing part is missing content the law requires; a person decides whether it is elsewhere.'),
    _r("SEC-ORDER", "warning", "各部分顺序不规范", "Sections out of order",
       "Sections appear in the parsed text in an order other than 一…六.",
       why='Parts out of order may be mislabelled parts; a person checks what the text says.'),
    _r("SEC-COUNT-CLAIM", "warning", "前言所述部分数与实际不符", "Preamble section count disagrees with body",
       "Preamble (section '0') claims 'N部分' but names a different number of the six parts.",
       why='The preamble and the body disagree about what the report contains; a person checks which is right.'),
    _r("SEC-EMPTY-NARRATIVE", "warning", "文字部分过于简单", "Narrative section nearly empty",
       "Section 一 or 五 has fewer than 50 characters.",
       why='A near-empty 总体情况 or 问题 part may be a truncated report; a person judges.'),
    _r("TBL-MISSING-<t>", "error", "缺少第二/三/四部分表格", "Required table missing",
       "<t> ∈ 2, 3, 4: no cell of that table was read, for a report year ≥ 2019; skipped when the parser recorded table_not_extracted.",
       why='A required table is missing: the report cannot be published without it.'),
    _r("TBL-HEADER-ALTERED", "notice", "表头被擅自修改", "Template header altered",
       "Reported by the parser for altered labels; added by the validator for the hybrid single （六）其他处理 row. Warning when a cell it names is uncertain.",
       why="A reworded or typo'd label, or the single （六） row, changes no number once every cell it names is read with certainty (notice); when a named cell is uncertain the label may be another row (warning)."),
    # §6.2 cells
    _r("NUM-NONNEG", "error", "数值不能为负", "Negative value", "Every count cell ≥ 0 (except t2v19_*_delta).",
       why='A negative count cannot be true.'),
    _r("NUM-INT", "error", "件数应为整数", "Count is not an integer", "Every count cell is an integer.",
       why='A fractional count cannot be true.'),
    _r("NUM-FEE-DP", "warning", "收费金额最多保留4位小数（万元）", "Fee has more than 4 decimals (万元)",
       "t2_fee_amount_wan has more than 4 decimal places.",
       why='More than 4 decimals of 万元 suggests the amount was typed in another unit; a person checks.'),
    _r("NUM-FEE-UNIT", "warning", "收费金额单位疑似填错（应为万元）", "Fee probably entered in yuan, not 万元",
       "The fee cell's raw text says 元 (not 万元), or the narrative's 行政事业性收费 amount in 元 /10000 equals the cell.",
       why='A fee in 元 instead of 万元 is 10,000 times off; a person checks which unit was meant.'),
    _r("NUM-UNPARSEABLE", "warning", "单元格内容无法识别为数字", "Cell not numeric",
       "A cell holding no readable number (error), or a number plus a note: notice when the number is read with certainty, else warning.",
       why='A cell with no readable number has no value (error); a number with a note read with certainty changes no number (notice); read with doubt, a person checks (warning).'),
    _r("NUM-MARKER", "notice", "空白或“/”按0处理", "Blank or dash read as zero",
       "Cells left blank or holding '/', '—', '-', '无' are read as 0; warning only when a marked cell takes part in a table-三/四 sum that fails.",
       why="Blank or '/' read as 0 in a table that adds up changes no number (notice); when a marked cell takes part in a sum that fails, the blank may hide a figure (warning)."),
    # §6.3 section 二
    _r("T2-INFORCE-GE-ISSUED-<x>", "warning", "现行有效件数少于本年制发件数，需核实",
       "Fewer documents in force than issued this year", "<x> ∈ rules, normative; v2021 only.",
       why='Plausibility, not arithmetic: a person checks the columns.'),
    _r("T2-INFORCE-ZERO-<x>", "warning", "本年有制发但现行有效为0", "Issued this year but none in force",
       "<x> ∈ rules, normative; issued > 0 and in force = 0.",
       why='Plausibility, not arithmetic: a person checks the columns.'),
    _r("T2-REPEALED-LARGE-<x>", "warning", "废止件数异常偏大", "Repealed count implausibly large",
       "<x> ∈ rules, normative; repealed > in force + issued.",
       why='Plausibility, not arithmetic: a person checks the columns.'),
    _r("T2-RULES-AUTHORITY", "warning", "本机关无规章制定权，规章栏应为0", "Agency cannot make 规章; row should be 0",
       "County/township bodies and departments report 规章 > 0. For the 办公厅/办公室 of a government that makes 规章 it is only an info note (it publishes its government's 规章).",
       why="Usually 规章 entered by a body that cannot make them, a person checks; for a government's general office it is that government's 规章 (info)."),
    _r("T2-LICENSE-NO-POWER", "warning", "文字称无相关职权但表中有数", "Text says no such power, table non-zero",
       "Narrative says 无行政许可/处罚/强制 职权 while the matching section 二 cell > 0.",
       why='Text and table contradict each other; a person decides which is right.'),
    # §6.4 section 三
    _r("T3-BALANCE-<c>", "error", "第一项加第二项之和应等于第三项加第四项之和",
       "New + carried-in must equal processed + carried-out", f"{_C}.",
       why='Arithmetic of the template: the table cannot be right as printed.'),
    _r("T3-TOTALPROC-<c>", "error", "（七）总计应等于各办理结果之和", "(七)总计 must equal the sum of result rows",
       f"{_C}; results = rows 3–20 + （六） (sub-rows in v2021, the single row in v2019/hybrid).",
       why='Arithmetic of the template: the table cannot be right as printed.'),
    _r("T3-ROWSUM-<row>", "error", "总计列应等于各申请人类型之和", "Total column must equal the sum of applicant types",
       f"{_ROW}; blank = 0, null rows skipped.",
       why='Arithmetic of the template: the table cannot be right as printed.'),
    _r("T3-BLANK-TOTAL-<row>", "warning", "总计列未填", "Total cell left blank",
       f"{_ROW}; the total cell is blank while another cell of the row is > 0.",
       why='A blank total beside non-zero parts is either a missing number or a layout slip; a person checks.'),
    _r("T3-NO-GROUP-SUBTOTAL", "warning", "分组标题行不应填数（疑似列错位）",
       "Number in a group header row (column shift?)", "Reported by the parser (only it sees group label cells).",
       why='Numbers in a group row usually mean shifted columns; a person checks the rows below.'),
    _r("T3-CARRY-FORWARD-GT-INPUT-<c>", "error", "结转数大于可办理总数",
       "Carried-forward exceeds available applications", f"{_C}.",
       why='Arithmetic: more carried forward than was ever open cannot be right.'),
    _r("T3-ALL-ZERO-BUT-TEXT", "error", "文字有申请而表格全为0", "Narrative reports applications, table is all zero",
       "Every table-三 cell is 0 and section 一 states N > 0 applications (same extraction as NARR-APPS).",
       why='The text counts applications the table does not have: one of them is wrong.'),
    # §6.5 section 四
    _r("T4-SUM-REVIEW", "error", "行政复议总计应等于维持+纠正+其他+尚未审结",
       "Review total must equal its four parts", "t4_review_total = upheld + corrected + other + pending.",
       why='Arithmetic of the template: the table cannot be right as printed.'),
    _r("T4-SUM-DIRECT", "error", "未经复议直接起诉总计不平", "Direct-suit total must equal its parts",
       "t4_suit_direct_total = upheld + corrected + other + pending.",
       why='Arithmetic of the template: the table cannot be right as printed.'),
    _r("T4-SUM-AFTER", "error", "复议后起诉总计不平", "Post-review-suit total must equal its parts",
       "t4_suit_after_review_total = upheld + corrected + other + pending.",
       why='Arithmetic of the template: the table cannot be right as printed.'),
    _r("T4-CELLCOUNT", "error", "第四部分表格列数不符（疑似错位）", "Section 四 cell count wrong (shifted?)",
       "Table 四 read but not exactly 15 cells mapped.",
       why='Table 四 was not read as 15 cells: the cells may be shifted, so none can be trusted.'),
    _r("T4-NO-APPLICATIONS", "warning", "无申请却有复议诉讼，需核实", "Appeals without any applications",
       "Appeals > 0 while this year and the previous year had no applications (needs the previous report).",
       why='Possible but unusual; a person checks.'),
    _r("T4-CORRECTED-RATE", "info", "存在被纠错案件", "Agency was corrected (report it)",
       "Any 结果纠正 cell > 0.",
       why='A fact the portal shows, not a deviation.'),
    # §6.6 narrative
    _r("NARR-APPS", "warning", "正文申请数与表三不一致", "Application count in text differs from table 三",
       "A sentence stating the year's intake (收到/受理/新收 … 政府信息公开/依申请公开申请 … N件) with N ∉ {new, "
       "new + carried-in, processed}. Error only when clear: a receiving verb, this year, the report's own body. "
       "Warning when unclear (no verb, bare 申请, cumulative, a 'X政府' subject) or when a part of a "
       "summary's jurisdiction (本机关, 区政府办, 各部门) states more than the whole. Not compared: results "
       "(同意公开 …), handled counts (办结/答复, → NARR-RESULTS), other years, months or quarters, other bodies "
       "(全区/全市/各部门/代表区政府 in an agency report, another level's 全市), 信访/热线/咨询/留言/事项, channel or "
       "applicant subsets.",
       why="The text and the table disagree on the number of applications; a person decides which is right (error when the sentence clearly states this year's count for this body)."),
    _r("NARR-ZERO-APPS", "error", "正文称未收到申请但表中有数", "Text says no applications; table has some",
       "Text says 未收到 (政府信息公开/依申请公开) 申请 or 0件 for this year and this body while "
       "t3_new_received__total > 0; warning when unclear (no verb, a 'X政府' subject); a part of a "
       "summary's jurisdiction is not compared.",
       why='The text denies what the table counts: one of them is wrong.'),
    _r("NARR-RESULTS", "warning", "正文办理结果与表三不一致", "Result counts in text differ from table",
       "Stated 予以公开/部分公开/不予公开/无法提供/不予处理/其他处理/结转 counts equal the table; 同意公开 (答复) N件 "
       "equals 予以公开 or 予以公开 + 部分公开; a handled count (办结/答复/办理 N件) equals （七）总计, "
       "new + carried-in, or new.",
       why='The text and the table disagree on a result count; a person checks.'),
    _r("NARR-APPEALS", "error", "正文复议诉讼数与表四不一致", "Review/litigation counts in text differ from table 四",
       "Stated 行政复议 / 行政诉讼 counts, '未发生…' and '均获维持' statements agree with table 四; a part of a "
       "summary's jurisdiction only when it states more than the whole; other bodies', other years' and a review "
       "organ's counts (收到行政复议申请) are not compared. Warning when the subject is unclear or when counts include "
       "carried-over cases.",
       why='The text and table 四 disagree; a person checks (error when the statement is unambiguous).'),
    _r("NARR-NORMATIVE", "warning", "正文规范性文件数与表二不一致", "Normative-document count differs from table 二",
       "Stated 制发/印发 (行政)规范性文件 N equals the table.",
       why='The text and table 二 disagree; a person checks.'),
    _r("NARR-FEE", "notice", "信息处理费说明与表格不符", "Information-fee statement inconsistent",
       "信息处理费 stated outside section 六, or '未收取' while applications were closed for non-payment.",
       why="Where the fee is mentioned, or '未收取' beside applications closed for non-payment (billed, never paid), changes no number: recorded for guidance."),
    _r("NARR-UNIT", "warning", "正文数字单位疑似错误", "Wrong unit in narrative figure",
       "'N万条' where the following parts (条) sum to N.",
       why='A wrong unit in the text changes no table number, but the published sentence is wrong; a person checks.'),
    _r("NARR-PLACEHOLDER", "error", "正文存在未填写的数字占位", "Unfilled number placeholder",
       "Counting phrase, two or more spaces and a unit on one line, or XX/××/X/N before 件/条.",
       why='An unfilled template placeholder would be published as is.'),
    _r("NARR-PERCENT", "warning", "百分比计算有误", "Percentage does not match the counts",
       "A percentage attached to a stated result count differs from count/base by more than 0.05 pp (or the rounding of the printed digits) for every base (processed, new, new + carried-in).",
       why='A printed percentage that fits no base is wrong as published; a person checks.'),
    # §6.7 cross-year
    _r("XY-CARRY-<c>", "warning", "本年“上年结转”应等于上年“结转下年度继续办理”",
       "This year's carried-in must equal last year's carried-out",
       f"{_C}; error for total when both cells hold printed digits, same agency and kind, and neither report fails T3-BALANCE-total.",
       why="This year's carried-in must be last year's carried-out; a person checks which year is wrong (error when both are printed digits of clean tables)."),
    _r("XY-INFORCE-<x>", "warning", "现行有效件数与上年及本年增减不衔接", "In-force count does not roll forward",
       "<x> ∈ rules, normative; both years v2021.",
       why='Counts in force do not roll forward; a person checks.'),
    _r("XY-V19-DELTA-<v>", "warning", "上一年项目数量与上年报告不衔接", "Previous-year item count does not roll forward",
       "<v> ∈ license, other_service, penalty, coercion, fee; both years v2019.",
       why='Item counts do not roll forward; a person checks.'),
    _r("XY-DUP-TEXT", "warning", "与上年报告内容雷同", "Text copied from last year's report",
       "Section 一 or 五 ≥ 0.9 similar (shingle Jaccard, digits removed) to the previous year's.",
       why="A copied report may not describe this year's work; a person judges."),
    _r("XY-DUP-NUMBERS", "warning", "数据与上年完全相同", "Tables identical to last year",
       "Every shared table cell equals last year's and at least one is non-zero.",
       why="Identical tables two years running are usually last year's tables; a person checks."),
    _r("XY-FORMAT-SWITCH", "info", "格式切换年度", "Format changed between years",
       "v2019 last year, v2021 this year; section 二 cross-year rules are skipped.",
       why='A fact: the cross-year checks of section 二 are skipped.'),
    # §6.8 peers
    _r("PEER-DUP-TEXT", "warning", "与其他机关报告雷同 / 套用上级文稿", "Text copied from another agency or template",
       "Section 一 or 五 ≥ 0.9 similar to another agency's report of the same year (warning), or citing a provincial government's own work rules / 涉X舆情 in a county or township body's report (notice alone).",
       why="A near-copy of another body's report may not be this body's report: a person judges. A higher government's measures quoted as the body's own change no number: a notice for next year's guidance."),
    # §6.9 aggregates
    _r("AGG-SUM-T3-<row>-<c>", "warning", "汇总报告数据应等于所辖各机关之和", "Summary must equal the sum of its members",
       f"{_ROW}; {_C}.",
       why='A summary that is not the sum of its members may miss a member or hold a typo; a person checks.'),
    _r("AGG-SUM-T4-<k>", "warning", "同上（表四）", "Same, table 四", "<k> = the 15 t4_ keys without prefix.",
       why='As above for table 四.'),
    _r("AGG-SUM-T2-<k>", "warning", "同上（表二）", "Same, table 二",
       "<k> ∈ rules_issued, rules_repealed, normative_issued, normative_repealed, normative_in_force, license_decisions, penalty_decisions, coercion_decisions, fee_amount_wan.",
       why='As above for table 二.'),
    _r("AGG-GE-MEMBER", "warning", "汇总数不得小于任一成员", "Summary smaller than one member",
       "A t3_/t4_ summary cell is smaller than the same cell of a single member.",
       why='A summary below one member cannot be right as printed; a person checks.'),
    # validator additions (not in §6)
    _r("AGG-MEMBERS-MISSING", "info", "部分所辖机关尚未提交年报", "Some member agencies have not reported",
       "Validator addition: expected members with no report this year (normalised names).",
       why='A fact about who has not reported yet, not a fault of this report.'),
    _r("PARSE-LOW-CONFIDENCE", "warning", "单元格解析置信度低，需人工核对", "Parser is unsure of some cells",
       "Validator addition: cells with confidence < UNCERTAIN_BELOW (0.9), with the parser's source and note.",
       why='The parser is not sure the number it read is the number printed; a person compares with the source.'),
    _r("PARSE-NOTE", "info", "解析器提示", "Parser note",
       "Validator addition: a parse finding whose rule is not in this catalogue, passed through.",
       why='A remark from the parser that changes no number.'),
)

_BY_ID = {spec.id: spec for spec in RULES}
_EXPANDED = sorted((s for s in RULES if s.is_expanded), key=lambda s: -len(s.prefix))


@cache
def spec_for(rule_id: str) -> RuleSpec:
    """The catalogue entry of a concrete rule ID ("T3-BALANCE-total" → T3-BALANCE-<c>)."""
    if rule_id in _BY_ID:
        return _BY_ID[rule_id]
    for spec in _EXPANDED:
        if rule_id.startswith(spec.prefix):
            return spec
    raise KeyError(rule_id)


def is_known_rule(rule_id: str) -> bool:
    try:
        spec_for(rule_id)
    except KeyError:
        return False
    return True


def make_finding(
    rule_id: str,
    detail_zh: str,
    detail_en: str,
    cells: Iterable[str] = (),
    *,
    severity: Severity | None = None,
    culprit: str | None = None,
) -> Finding:
    spec = spec_for(rule_id)
    return Finding(
        rule=rule_id,
        severity=severity or spec.severity,
        message_zh=f"{spec.message_zh}：{detail_zh}" if detail_zh else spec.message_zh,
        message_en=f"{spec.message_en}: {detail_en}" if detail_en else spec.message_en,
        cells=list(dict.fromkeys(cells)),
        culprit=culprit,
    )


def rule_catalogue() -> list[RuleSpec]:
    return list(RULES)


def catalogue_markdown() -> str:
    """docs/rules.md: one table per family, in catalogue order."""
    lines = [
        "# Validation rules",
        "",
        "Generated from `services/validator/catalogue.py`. IDs follow the domain spec §6: a",
        "placeholder (`<c>`, `<row>`, `<x>`, `<v>`, `<n>`, `<t>`, `<k>`) expands to one rule per value.",
        "Severity: **error** → report rejected; **warning** → needs review; **notice** → a harmless",
        "deviation (changes no number, needs no decision): recorded, shown on the portal's 数据核对提示,",
        "counted per agency (`nianbao notices --year Y`), does not hold the report; **info** → a fact.",
        "The decision is `approved` when only notices and info remain. Every finding that holds a report",
        "carries a one-line reviewer's question (`question_zh`/`question_en`).",
        f"A finding that rests on a cell the parser is unsure of (confidence < {UNCERTAIN_BELOW}) says so and is at most a warning.",
        "`AGG-INTERNAL` of §6.9 is never emitted: a summary report is checked by all rules under their own IDs.",
        "",
    ]
    family = None
    for spec in RULES:
        if spec.family != family:
            family = spec.family
            lines += [
                "",
                f"## {family}",
                "",
                "| ID | severity | 中文 | English | what it checks | why at this level |",
                "|---|---|---|---|---|---|",
            ]
        desc = spec.description.replace("|", "\\|")
        why = spec.why.replace("|", "\\|")
        lines.append(f"| `{spec.id}` | {spec.severity} | {spec.message_zh} | {spec.message_en} | {desc} | {why} |")
    return "\n".join(lines) + "\n"


# --- the reviewer's question ---------------------------------------------------------
# What a person checks for a finding of each family; the finding adds where (its culprit or
# cells, with the parser's source position) and the rule's headline adds what.
_FAMILY_ASK: dict[str, tuple[str, str]] = {
    "META": ("对照原文的标题、前言和落款确认是否如此", "confirm it against the title, preamble and signature"),
    "SEC": ("对照原文确认各部分是否齐全、顺序是否如此", "confirm the parts of the report against the source"),
    "TBL": ("对照原表确认表格和表头", "confirm the table and its labels against the source"),
    "NUM": ("对照原表确认该单元格所填内容", "confirm what the cell holds in the source"),
    "T2": ("对照原表确认哪个数字有误", "find which number is wrong in the source table"),
    "T3": ("对照原表确认哪个数字有误", "find which number is wrong in the source table"),
    "T4": ("对照原表确认哪个数字有误", "find which number is wrong in the source table"),
    "NARR": ("确认正文所述与表格哪一方正确", "decide whether the text or the table is right"),
    "XY": ("确认本年与上年报告哪一方正确", "decide whether this year's or last year's report is right"),
    "PEER": ("确认文字是否为本机关本年度的工作", "decide whether the text describes this body's own work this year"),
    "AGG": ("确认汇总数与各成员报告哪一方正确", "decide whether the summary or its members are right"),
    "PARSE": ("确认原表数字与解析读数是否一致", "confirm the number printed in the source equals the value read"),
}
# Rules whose family's question would send the reviewer to the wrong place.
_RULE_ASK: dict[str, tuple[str, str]] = {
    "META-PERIOD-CUMULATIVE": (
        "在正文中确认所述数字是否为本年度数据（而非累计数），并确认表格中的数字也是本年度的",
        "find the cumulative figure in the text and confirm the tables hold this year's figures only",
    ),
    "META-FORMAT-YEAR": ("对照原表的表头确认所用格式", "confirm the format from the headers of the source tables"),
    "META-CITED-DOC": ("在正文中确认引用的格式文件", "find the cited format notice in the text"),
}
_QUESTION_PLACES = 3


def _places(keys: list[str], sources: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """Cells to point at, a table-三 row given once ("t3_granted__*") when several of its cells are named."""
    rows = Counter(k.rsplit("__", 1)[0] for k in keys if k.startswith("t3_") and "__" in k)
    places: dict[str, str | None] = {}
    for key in keys:
        row = key.rsplit("__", 1)[0]
        place = f"{row}__*" if rows.get(row, 0) > 1 else key
        places.setdefault(place, sources.get(key))
    return list(places.items())


def reviewer_question(finding: Finding, sources: Mapping[str, str]) -> tuple[str, str]:
    """One line (zh, en): what to check and where — the culprit first, else the finding's cells."""
    spec = spec_for(finding.rule)
    keys = [finding.culprit] if finding.culprit else list(finding.cells)
    places = _places(keys, sources)
    shown = places[:_QUESTION_PLACES]
    where_zh = "、".join(f"{k}（{src}）" if src else k for k, src in shown)
    where_en = ", ".join(f"{k} ({src})" if src else k for k, src in shown)
    if len(places) > len(shown):
        where_zh += f"等{len(places)}处"
        where_en += f" and {len(places) - len(shown)} more"
    ask_zh, ask_en = _RULE_ASK.get(
        spec.id, _FAMILY_ASK.get(spec.family, ("对照原文核对", "check it against the source"))
    )
    if not keys:
        return f"{spec.message_zh}：请{ask_zh}。", f"{spec.message_en}: {ask_en}."
    return (
        f"{spec.message_zh}：请在 {where_zh} {ask_zh}。",
        f"{spec.message_en}: at {where_en}, {ask_en}.",
    )
