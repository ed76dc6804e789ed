"""Report pages as government CMSs serve them (spec §8): Word-pasted tables inside site chrome.

Styles: a TRS/WCM page in UTF-8; a 大汉 jcms page in GBK declaring gb2312; the same GBK bytes
mis-declared as UTF-8; a page whose article sits in a JS string with escaped quotes; and a
traditional-character mirror (OpenCC s2t plus the Taiwan-vocabulary swaps seen on wikis).
"""

from __future__ import annotations

import html
import json
import re
import zlib
from collections.abc import Callable
from typing import Any

from tests.corpus.layout import NumberStyle, TableGrid, all_grids, section_titles

HTML_STYLES = (
    "html_trs_utf8",
    "html_jcms_gb2312",
    "html_gbk_misdeclared",
    "html_js_string",
    "html_mirror_traditional",
    "html_wps_blank",
)

# Pixel widths as Word leaves them; only decoration, but parsers must not choke on them.
_COLUMN_WIDTH = {"t2": 142, "t3": 58, "t4": 40}


def render(truth: dict[str, Any], style: str) -> tuple[str, bytes]:
    if style not in HTML_STYLES:
        raise ValueError(f"unknown HTML style {style!r}")
    labels = {"html_jcms_gb2312": _jcms_label, "html_gbk_misdeclared": _altered_label}
    numbers = NumberStyle(thousands=True, blank_as="", zero_as="") if style == "html_wps_blank" else None
    article = _article(truth, labels.get(style, _same), numbers)
    if style == "html_wps_blank":
        page, encoding = _wps_page(truth, article), "utf-8"
    elif style == "html_trs_utf8":
        page, encoding = _trs_page(truth, article, charset="utf-8"), "utf-8"
    elif style == "html_jcms_gb2312":
        page, encoding = _jcms_page(truth, article, charset="gb2312"), "gbk"
    elif style == "html_gbk_misdeclared":
        page, encoding = _trs_page(truth, article, charset="utf-8"), "gbk"  # the site lies
    elif style == "html_js_string":
        page, encoding = _js_page(truth, article), "utf-8"
    else:
        page, encoding = _traditional(_trs_page(truth, article, charset="utf-8")), "utf-8"
    name = (
        f"t{truth['year'] + 1}0{truth['year'] % 9 + 1}15_{zlib.crc32(truth['agency'].encode()) % 100000}.html"
    )
    if style == "html_jcms_gb2312":
        name = f"art_{truth['year'] + 1}_{len(truth['agency'])}.html"
    return name, page.encode(encoding, errors="strict")


# --- article ------------------------------------------------------------------


def _table_html(
    grid: TableGrid, number: Callable[[str], str], label: Callable[[str], str] = lambda t: t
) -> str:
    width = _COLUMN_WIDTH[grid.name]
    rows = []
    for row in grid.rows():
        tds = []
        for cell in row:
            attrs = f' width="{width * cell.colspan}" valign="center"'
            if cell.rowspan > 1:
                attrs += f' rowspan="{cell.rowspan}"'
            if cell.colspan > 1:
                attrs += f' colspan="{cell.colspan}"'
            text = number(cell.key) if cell.key else label(cell.text)
            inner = html.escape(text).replace("\n", "<br />") if text else "&nbsp;"
            tds.append(f'<td{attrs}><p align="center"><span style="font-size:14px">{inner}</span></p></td>')
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return (
        '<table border="1" cellspacing="0" cellpadding="0" align="center" style="border-collapse:collapse">'
        "<tbody>" + "".join(rows) + "</tbody></table>"
    )


def _paragraphs(text: str) -> str:
    return "".join(f'<p style="text-indent:2em">{html.escape(line)}</p>' for line in text.split("\n") if line)


def _same(text: str) -> str:
    return text


def _jcms_label(text: str) -> str:
    """Item numbers as "1、" (an accepted variant, spec §3.3), as some county sites type them."""
    return re.sub(r"^(\d)\.", r"\1、", text)


def _altered_label(text: str) -> str:
    """Template alterations seen in real v2021 reports (spec §7.5): the v2019 row name and an
    explanatory suffix on a header. The cells keep their meaning; TBL-HEADER-ALTERED applies."""
    if text == "行政规范性文件":
        return "规范性文件"
    return "现行有效件数（历史累计）" if text == "现行有效件数" else text


def _article(truth: dict[str, Any], label: Callable[[str], str], numbers: NumberStyle | None = None) -> str:
    style = numbers or NumberStyle(thousands=True)
    grids = all_grids(truth)
    parts = [
        f'<p style="text-align:center"><strong>{html.escape(truth["title"])}</strong></p>',
        _paragraphs(truth["preamble"]),
    ]
    for number, heading in section_titles(truth).items():
        parts.append(f"<p><strong>{html.escape(heading)}</strong></p>")
        if number in grids:
            parts.append(_table_html(grids[number], lambda k: style.format(truth, k), label))
        else:
            parts.append(_paragraphs(truth["sections"][number]))
    return "\n".join(parts)


def _date_line(truth: dict[str, Any]) -> str:
    date = truth.get("published_on")
    return f"<span>发布日期：{date}</span>" if date else "<span>来源：本站</span>"


# --- page chrome ----------------------------------------------------------------


_NAV = "".join(
    f'<li><a href="/{slug}/">{label}</a></li>'
    for slug, label in (
        ("index", "首页"),
        ("zwgk", "政务公开"),
        ("zwfw", "政务服务"),
        ("hdjl", "互动交流"),
        ("zjxx", "走进本地"),
    )
)
_FOOTER = (
    '<div class="footer"><p>主办单位：人民政府办公室　网站标识码：3400000001</p>'
    '<p>ICP备案号：皖ICP备05001234号　<a href="/sitemap/">网站地图</a></p></div>'
)


def _trs_page(truth: dict[str, Any], article: str, *, charset: str) -> str:
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}" />
<title>{html.escape(truth["title"])}_政府信息公开年报_政府信息公开</title>
<meta name="ArticleTitle" content="{html.escape(truth["title"])}" />
<script type="text/javascript" src="/js/jquery.min.js"></script></head>
<body><div class="header"><ul class="nav">{_NAV}</ul></div>
<div class="crumbs">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <a href="./">政府信息公开年报</a></div>
<div class="article"><h1 class="title">{html.escape(truth["title"])}</h1>
<div class="info">{_date_line(truth)}　<span>浏览次数：<script>document.write(1024)</script></span></div>
<div class="TRS_Editor"><div class="Custom_UnionStyle">
{article}
</div></div>
<div class="share">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</div>
</div>{_FOOTER}</body></html>
"""


def _wps_page(truth: dict[str, Any], article: str) -> str:
    """A page saved from WPS: bare markup, zeros left blank in the tables (empty cells)."""
    article = re.sub(r'<p align="center"><span style="font-size:14px">(.*?)</span></p>', r"\1", article)
    article = article.replace("&nbsp;", "")
    return f"""<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>
<meta http-equiv=Content-Type content="text/html; charset=utf-8"><meta name=Generator content="WPS Office">
<title>{html.escape(truth["title"])}</title></head>
<body lang=ZH-CN><div class=Section0>
{article}
</div></body></html>
"""


def _jcms_page(truth: dict[str, Any], article: str, *, charset: str) -> str:
    return f"""<html>
<head>
<meta charset="{charset}">
<title>{html.escape(truth["title"])}</title>
</head>
<body>
<table width="1000" align="center"><tr><td class="daohang">{_NAV}</td></tr></table>
<table width="1000" align="center"><tr><td>您现在的位置：首页 &gt;&gt; 信息公开 &gt;&gt; 年度报告</td></tr>
<tr><td class="bt_content" align="center">{html.escape(truth["title"])}</td></tr>
<tr><td align="center">{_date_line(truth)}</td></tr>
<tr><td id="zoom">
<!--ZJEG_RSS.content.begin--><meta name="ContentStart">
{article}
<meta name="ContentEnd"><!--ZJEG_RSS.content.end-->
</td></tr></table>
{_FOOTER}
</body>
</html>
"""


def _js_page(truth: dict[str, Any], article: str) -> str:
    """The article as a JS string literal: quotes escaped, lines joined (Shanghai 2019, §8)."""
    literal = json.dumps(article, ensure_ascii=False)  # escapes " and newlines the way CMS templates do
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(truth["title"])}</title></head>
<body><div id="nav"><ul>{_NAV}</ul></div>
<div class="crumb">首页 &gt; 政府信息公开 &gt; 年度报告</div>
<h2>{html.escape(truth["title"])}</h2><div class="date">{_date_line(truth)}</div>
<div id="ivs_content"></div>
<script type="text/javascript">
var pageTitle = "{truth["title"]}";
var content = {literal};
document.getElementById("ivs_content").innerHTML = content;
</script>
{_FOOTER}</body></html>
"""


# --- mirror -------------------------------------------------------------------

_S2T: Any = None


def _traditional(page: str) -> str:
    """A mirror site's copy: s2t, then the wiki's vocabulary swaps (spec §8, E12)."""
    global _S2T
    if _S2T is None:
        from opencc import OpenCC

        _S2T = OpenCC("s2t")
    converted: str = _S2T.convert(page)
    return converted.replace("規範性文件", "規範性檔案").replace("制作", "製作")
