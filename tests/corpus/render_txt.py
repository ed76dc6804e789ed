"""Plain-text and Markdown dumps of a truth, with the extraction artefacts of spec §8.

Each style imitates one way reports reach us as text: the seed's tab dump of a web page,
a local template with a 法人或其他组织 subtotal column, space- and pipe-separated dumps, a
full-width copy, and a PDF-to-Markdown dump with a table split across pages.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

from shared.report import T3_COLUMNS, T3_ORG_COLUMNS, T4_KEYS, t3_key
from tests.corpus.layout import (
    T3_BALANCE_NOTE,
    T3_OUTER_LABELS,
    NumberStyle,
    TableGrid,
    section_titles,
    t3_row_labels,
    table2_grid,
)

TXT_STYLES = (
    "txt_tab_seed",
    "txt_tab_subtotal",
    "txt_space_bom",
    "txt_pipe_gbk",
    "txt_fullwidth",
    "md_pdf_dump",
    "txt_tab_wrapped",
    "txt_space_wrapped",
    "txt_tab_blank_zeros",
)

# Half-width brackets with a space after the item number, as in the seed ("(一) 予以公开").
ASCII_LABEL = str.maketrans({"（": "(", "）": ") ", "，": ", "})


def _ascii_label(label: str) -> str:
    return label.translate(ASCII_LABEL).replace(")  ", ") ").rstrip()


def render(truth: dict[str, Any], style: str) -> tuple[str, bytes]:
    if style not in _RENDERERS:
        raise ValueError(f"unknown TXT style {style!r}")
    text, encoding, extension = _RENDERERS[style](truth)
    name = f"{truth['agency']}{truth['year']}年度报告.{extension}"
    data = text.encode(encoding)
    return name, (b"\xef\xbb\xbf" + data if encoding == "utf-8" and style.endswith("_bom") else data)


# --- document frame -------------------------------------------------------------


def _document(truth: dict[str, Any], tables: dict[str, list[str]], *, wrap: int | None = None) -> list[str]:
    """Title, preamble and the six sections, each table's lines under its heading."""
    lines = [truth["title"], ""]
    lines += _wrapped(truth["preamble"], wrap)
    for number, heading in section_titles(truth).items():
        lines += ["", heading, ""]
        if number in tables:
            lines += tables[number]
        else:
            for paragraph in truth["sections"][number].split("\n"):
                lines += _wrapped(paragraph, wrap)
    return lines


def _wrapped(paragraph: str, width: int | None) -> list[str]:
    return textwrap.wrap(paragraph, width) if width else [paragraph]


def _t2_rows(truth: dict[str, Any], grid: TableGrid, number: Callable[[str], str]) -> list[list[str]]:
    """Section 二 as rows of tokens; a merged cell is followed by empty tokens for the columns it covers."""
    rows = []
    for row in grid.rows():
        tokens: list[str] = []
        for cell in row:
            tokens.append(number(cell.key) if cell.key else cell.text.replace("\n", ""))
            tokens += [""] * (cell.colspan - 1)
        rows.append(tokens)
    return rows


def _t3_values(truth: dict[str, Any], row: str, number: Callable[[str], str]) -> list[str]:
    return [number(t3_key(row, c)) for c in T3_COLUMNS]


def _t4_values(number: Callable[[str], str]) -> list[str]:
    return [number(k) for k in T4_KEYS]


T4_HEADER_LINES = [
    "行政复议\t\t\t\t\t行政诉讼",
    "结果维持\t结果纠正\t其他结果\t尚未审结\t总计\t未经复议直接起诉\t\t\t\t\t复议后起诉",
    "\t\t\t\t\t结果维持\t结果纠正\t其他结果\t尚未审结\t总计\t结果维持\t结果纠正\t其他结果\t尚未审结\t总计",
]


# --- tab dumps (the seed) -------------------------------------------------------------


def _seed_table3(truth: dict[str, Any], number: Callable[[str], str], *, subtotal: bool) -> list[str]:
    """Table 三 as the seed shows it: floating 结果, group label + first item on one line, 8 numbers."""

    def values(row: str) -> list[str]:
        cells = _t3_values(truth, row, number)
        if not subtotal:
            return cells
        # A local template's extra column: 法人或其他组织 = the five org columns added up.
        org_sum = sum(truth["cells"][t3_key(row, c)] for c in T3_ORG_COLUMNS)
        return [cells[0], str(org_sum), *cells[1:]]

    def padded(row: str) -> list[str]:
        # Without a subtotal column the merged group cell leaves one extra 0 in front.
        return values(row) if subtotal else ["0", *values(row)]

    if subtotal:
        header = [
            f"{T3_BALANCE_NOTE}\t申请人情况\t\t\t\t\t\t\t",
            "\t自然人\t法人或其他组织\t\t\t\t\t\t总计",
            "\t\t小计\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t",
        ]
    else:
        header = [
            f"{T3_BALANCE_NOTE.translate({ord('（'): '(', ord('）'): ')'})}\t申请人情况\t\t\t\t\t\t",
            "\t自然人\t法人或其他组织\t\t\t\t\t总计",
            "\t\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他\t",
        ]
    lines = header + [
        f"{T3_OUTER_LABELS['new_received']}\t" + "\t".join(values("new_received")),
        f"{T3_OUTER_LABELS['carried_over']}\t" + "\t".join(values("carried_over")),
    ]
    labels = t3_row_labels(truth)
    seen_groups: set[str] = set()
    for index, (row, group, item) in enumerate(labels):
        # The seed's accepted label variant (spec §3.3) for 2.其他法律行政法规禁止公开.
        item = _ascii_label(item).replace("行政法规禁止", "法规禁止")
        if index == 0:
            lines += ["三、本年度办理\t" + item, "\t" + "\t".join(values(row)), ""]
        elif index == 1:
            lines.append("结果\t\t" + item + "\t" + "\t".join(values(row)))
        elif group is None:
            lines.append(item + "\t\t" + "\t".join(padded(row)))
        elif group not in seen_groups:
            seen_groups.add(group)
            lines.append(_ascii_label(group) + "\t" + item + "\t" + "\t".join(padded(row)))
        else:
            lines.append("\t" + item + "\t" + "\t".join(padded(row)))
    lines.append(T3_OUTER_LABELS["carried_forward"] + "\t\t" + "\t".join(padded("carried_forward")))
    return lines


def _tab_document(truth: dict[str, Any], number: Callable[[str], str], *, subtotal: bool) -> str:
    tables = {
        "2": ["\t".join(r) for r in _t2_rows(truth, table2_grid(truth), number)],
        "3": _seed_table3(truth, number, subtotal=subtotal),
        "4": [*T4_HEADER_LINES, "\t".join(_t4_values(number))],
    }
    return "\n".join(_document(truth, tables)) + "\n"


def _txt_tab_seed(truth: dict[str, Any]) -> tuple[str, str, str]:
    style = NumberStyle()
    return _tab_document(truth, lambda k: style.format(truth, k), subtotal=False), "utf-8", "txt"


def _txt_tab_subtotal(truth: dict[str, Any]) -> tuple[str, str, str]:
    style = NumberStyle(thousands=True)
    return _tab_document(truth, lambda k: style.format(truth, k), subtotal=True), "utf-8", "txt"


def _txt_fullwidth(truth: dict[str, Any]) -> tuple[str, str, str]:
    """Full-width digits and punctuation everywhere in the tables (a copy from an old CMS)."""
    style = NumberStyle(fullwidth=True)
    tables = {
        "2": ["\t".join(r) for r in _t2_rows(truth, table2_grid(truth), lambda k: style.format(truth, k))],
        "3": _generic_table3(truth, lambda k: style.format(truth, k), sep="\t"),
        "4": [*T4_HEADER_LINES, "\t".join(_t4_values(lambda k: style.format(truth, k)))],
    }
    return "\n".join(_document(truth, tables)) + "\n", "utf-8", "txt"


# --- separated dumps ------------------------------------------------------------------


def _generic_table3(
    truth: dict[str, Any], number: Callable[[str], str], *, sep: str, wrap_long_labels: bool = False
) -> list[str]:
    """Header on three lines, then one line per row: [group] item, the 7 values."""
    lines = [
        sep.join([T3_BALANCE_NOTE, "申请人情况"]),
        sep.join(["", "自然人", "法人或其他组织", "总计"]),
        sep.join(["", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]),
        sep.join([T3_OUTER_LABELS["new_received"], *_t3_values(truth, "new_received", number)]),
        sep.join([T3_OUTER_LABELS["carried_over"], *_t3_values(truth, "carried_over", number)]),
    ]
    seen_groups: set[str] = set()
    for index, (row, group, item) in enumerate(t3_row_labels(truth)):
        label = item
        if index == 0:
            label = "三、本年度办理结果" + sep + item
        elif group and group not in seen_groups:
            seen_groups.add(group)
            label = group + sep + item
        values = _t3_values(truth, row, number)
        if wrap_long_labels and len(item) > 16:
            # PDF line wrapping: the first part of a long label stands alone on its own line.
            lines.append(label[: len(label) - len(item) + 12])
            label = label[len(label) - len(item) + 12 :]
        lines.append(sep.join([label, *values]))
    lines.append(
        sep.join([T3_OUTER_LABELS["carried_forward"], *_t3_values(truth, "carried_forward", number)])
    )
    return lines


def _wrap_t3_header(lines: list[str]) -> list[str]:
    """Header words wrapped inside their cells, as PDF text shows them ("商业\\n企业")."""
    wrapped_org_header = ["  商业  科研  社会公益  法律服务", "  企业  机构  组织  机构  其他"]
    return [lines[0], lines[1], *wrapped_org_header, *lines[3:]]


def _txt_space_bom(truth: dict[str, Any]) -> tuple[str, str, str]:
    """Space-separated with thousands separators; blanks must show as a dash or they vanish."""
    style = NumberStyle(thousands=True, blank_as="—")
    number = lambda k: style.format(truth, k)  # noqa: E731
    tables = {
        "2": ["  ".join(t for t in r if t) for r in _t2_rows(truth, table2_grid(truth), number)],
        "3": _wrap_t3_header(_generic_table3(truth, number, sep="  ", wrap_long_labels=True)),
        "4": [
            "行政复议  行政诉讼",
            "未经复议直接起诉  复议后起诉",
            "结果维持  结果纠正  其他结果  尚未审结  总计  " * 3,
            "  ".join(_t4_values(number)),
        ],
    }
    return "\n".join(_document(truth, tables)) + "\n", "utf-8", "txt"


def _txt_pipe_gbk(truth: dict[str, Any]) -> tuple[str, str, str]:
    """Pipe-separated, counts with a unit ("3件"), section 四 as three lines of five, GBK bytes."""
    style = NumberStyle(unit="件")
    number = lambda k: style.format(truth, k)  # noqa: E731
    t4 = _t4_values(number)
    tables = {
        "2": ["|".join(r) for r in _t2_rows(truth, table2_grid(truth), number)],
        "3": ["|" + line + "|" for line in _generic_table3(truth, number, sep="|")],
        "4": [
            "|行政复议|行政诉讼（未经复议直接起诉）|行政诉讼（复议后起诉）|",
            "|结果维持|结果纠正|其他结果|尚未审结|总计|",
            "|" + "|".join(t4[:5]) + "|",
            "|" + "|".join(t4[5:10]) + "|",
            "|" + "|".join(t4[10:]) + "|",
        ],
    }
    return "\n".join(_document(truth, tables)) + "\n", "gbk", "txt"


# --- PDF-to-Markdown dump (like corpus/real/shanghai-govoffice-2025.pdf-dump.md) --------------


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _md_table(rows: list[list[str]]) -> list[str]:
    return [_md_row(rows[0]), "|" + "---|" * len(rows[0]), *(_md_row(r) for r in rows[1:])]


T3_MD_HEADER = [
    "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
    "自然人",
    "商业企业",
    "科研机构",
    "社会公益组织",
    "法律服务机构",
    "其他",
    "总计",
]


def _md_table3(truth: dict[str, Any], number: Callable[[str], str]) -> list[str]:
    """Table 三 split over two pages; the header row is repeated after the page footer."""
    rows = [[T3_OUTER_LABELS[k], *_t3_values(truth, k, number)] for k in ("new_received", "carried_over")]
    labels = t3_row_labels(truth)
    for row, group, item in labels:
        middle_of_group = group is not None and item.startswith("2.")
        prefix = [group] if middle_of_group and group else []
        suffix = [] if middle_of_group or group is None else [""]
        rows.append([*prefix, item, *_t3_values(truth, row, number), *suffix])
    rows.append([T3_OUTER_LABELS["carried_forward"], *_t3_values(truth, "carried_forward", number)])
    split = 12
    heading = "## 表三：收到和处理政府信息公开申请情况"
    return [
        "申请人情况",
        "法人或其他组织",
        heading,
        *_md_table([T3_MD_HEADER, *rows[:split]]),
        "",
        "— 4 —",
        heading,
        *_md_table([T3_MD_HEADER, *rows[split:]]),
    ]


def _md_pdf_dump(truth: dict[str, Any]) -> tuple[str, str, str]:
    style = NumberStyle(thousands=True)

    def number(key: str) -> str:
        # A number with a bracketed note, as 上海市人民政府办公厅 2025 prints "22（其中修订16件）".
        text = style.format(truth, key)
        value = truth["cells"][key]
        if key == "t2_normative_issued" and key not in truth["markers"] and value >= 2:
            return f"{text}（其中修订{value // 2}件）"
        return text

    t2_lines: list[str] = []
    block: list[list[str]] = []
    for tokens in _t2_rows(truth, table2_grid(truth), number):
        cells = [t for t in tokens if t]
        if len(cells) == 1 and cells[0].startswith("第二十条"):
            t2_lines += _md_table(block) if block else []
            t2_lines.append(cells[0])
            block = []
        else:
            block.append(cells)
    t2_lines += _md_table(block)
    tables = {
        "2": t2_lines,
        "3": _md_table3(truth, number),
        "4": [
            "行政复议行政诉讼",
            "未经复议直接起诉复议后起诉",
            *_md_table([["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 3, _t4_values(number)]),
        ],
    }
    lines = _document(truth, tables, wrap=30)
    paged: list[str] = []
    for index, line in enumerate(lines, start=1):
        paged.append(line)
        if index % 45 == 0 and not line.startswith("|"):
            paged.append(f"— {index // 45} —")
    return "\n".join(paged) + "\n", "utf-8", "md"


# --- dumps whose column titles wrap over several lines ----------------------------------------


def _header_parts(text: str) -> list[str]:
    """A column title as a narrow cell wraps it: at its line breaks, else before a trailing
    unit word ("本年制发件数" → "本年制发" / "件数") or a bracketed note."""
    if "\n" in text:
        return text.split("\n")
    for tail in ("（", "件数", "数量"):
        cut = text.rfind(tail)
        if cut > 0:
            return [text[:cut], text[cut:]]
    return [text]


def _t2_wrapped_lines(truth: dict[str, Any], number: Callable[[str], str], sep: str) -> list[str]:
    """Table 二 with every header row's titles wrapped over two or three lines."""
    lines = []
    for tokens, row in zip(_t2_rows(truth, table2_grid(truth), number), table2_grid(truth).rows(), strict=True):
        is_header = tokens[0] == "信息内容"
        if not is_header:
            lines.append(sep.join(tokens).rstrip(sep) if sep == "\t" else sep.join(t for t in tokens if t))
            continue
        parts = [_header_parts(cell.text) for cell in row]
        depth = max(len(p) for p in parts)
        for level in range(depth):
            words = [p[level] if level < len(p) else "" for p in parts]
            lines.append(sep.join(words) if sep == "\t" else sep.join(w or "  " for w in words).rstrip())
    return lines


def _wrapped_document(truth: dict[str, Any], number: Callable[[str], str], sep: str) -> str:
    t4_header = [line.replace("\t", sep) for line in T4_HEADER_LINES]
    tables = {
        "2": _t2_wrapped_lines(truth, number, sep),
        "3": _wrap_t3_header(_generic_table3(truth, number, sep=sep)) if sep != "\t" else _generic_table3(truth, number, sep=sep),
        "4": [*t4_header, sep.join(_t4_values(number))],
    }
    return "\n".join(_document(truth, tables)) + "\n"


def _txt_tab_wrapped(truth: dict[str, Any]) -> tuple[str, str, str]:
    """A tab dump whose column titles wrap (本年制发 / 件数 on separate lines)."""
    style = NumberStyle(blank_as="—")
    return _wrapped_document(truth, lambda k: style.format(truth, k), "\t"), "utf-8", "txt"


def _txt_space_wrapped(truth: dict[str, Any]) -> tuple[str, str, str]:
    """The same with runs of spaces between the cells, thousands separators."""
    style = NumberStyle(thousands=True, blank_as="—")
    return _wrapped_document(truth, lambda k: style.format(truth, k), "   "), "utf-8", "txt"


def _txt_tab_blank_zeros(truth: dict[str, Any]) -> tuple[str, str, str]:
    """Zeros left blank (empty fields between tabs), thousands separators in the rest."""
    style = NumberStyle(thousands=True, blank_as="", zero_as="")
    number = lambda k: style.format(truth, k)  # noqa: E731
    tables = {
        "2": ["\t".join(r) for r in _t2_rows(truth, table2_grid(truth), number)],
        "3": _generic_table3(truth, number, sep="\t"),
        "4": [*T4_HEADER_LINES, "\t".join(_t4_values(number))],
    }
    return "\n".join(_document(truth, tables)) + "\n", "utf-8", "txt"


_RENDERERS: dict[str, Callable[[dict[str, Any]], tuple[str, str, str]]] = {
    "txt_tab_seed": _txt_tab_seed,
    "txt_tab_subtotal": _txt_tab_subtotal,
    "txt_space_bom": _txt_space_bom,
    "txt_pipe_gbk": _txt_pipe_gbk,
    "txt_fullwidth": _txt_fullwidth,
    "md_pdf_dump": _md_pdf_dump,
    "txt_tab_wrapped": _txt_tab_wrapped,
    "txt_space_wrapped": _txt_space_wrapped,
    "txt_tab_blank_zeros": _txt_tab_blank_zeros,
}
