"""Build (or reuse) the synthetic corpus: rendered reports plus their truth JSON.

    python -m tests.corpus.generate --out DIR --per-style N [--seed S]

Every style renders `per_style` truths. Files go to `<name>.<ext>` + `<name>.truth.json`.
The default location, `var/corpus/<version>-s<seed>-n<per_style>/`, is keyed by a hash of
this package's source and the template, so a changed generator never reuses stale files.

Styles (each cycles through v2021 agency, v2019, hybrid summary and v2021 summary truths):
  docx_v2021 / docx_v2019 / docx_hybrid   the official template filled with python-docx
  pdf_word_export, doc_word97             that DOCX converted by LibreOffice
  pdf_repeat_header                       table 三 split over pages, header repeated, page numbers
  pdf_distributed                         digits spaced apart inside their cells ("2 0")
  pdf_unruled                             tables without any border: text-aligned columns only
  pdf_blank_zeros                         zeros left blank in every table (header rows included)
  wps_word97 / xls_excel97                a .wps (Word 97 inside) and an Excel 97 workbook, by LibreOffice
  xlsx_openpyxl / xlsx_one_sheet          merged-cell tables on their own sheets / on one sheet
  xlsx_tables_only                        title and tables on one sheet, no narrative, zeros blank
  html_*                                  CMS pages: TRS UTF-8, jcms GB2312, GBK mis-declared as
                                          UTF-8 (altered labels), JS string, traditional mirror
  txt_* / md_pdf_dump                     text dumps with the artefacts of spec §8; column titles
                                          wrapped over lines (txt_*_wrapped), zeros left blank
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.corpus import render_docx, render_html, render_txt, render_xlsx
from tests.corpus.render_office import convert_batch, soffice_available
from tests.corpus.truth import random_truth, with_agency

REPO = Path(__file__).resolve().parents[2]
MANIFEST = "manifest.json"

# (report_format, hybrid, report_kind) combinations a style cycles through.
Variant = tuple[str, bool, str]
VARIANT_CYCLE: tuple[Variant, ...] = (
    ("v2021", False, "agency"),
    ("v2019", False, "agency"),
    ("v2021", True, "summary"),
    ("v2021", False, "summary"),
)
Renderer = Callable[[dict[str, Any], str], tuple[str, bytes]]


@dataclass(frozen=True)
class Style:
    name: str
    input_format: str  # pdf / docx / doc / xlsx / html / txt
    extension: str
    renderer: Renderer | None  # None: converted from the DOCX rendering by LibreOffice
    variants: tuple[Variant, ...] = VARIANT_CYCLE
    docx_source: str = "docx_template"  # the DOCX (or xlsx_*) style LibreOffice converts (renderer None)
    convert_to: str | None = None  # LibreOffice's target when it is not the extension (.wps: Word 97)

    @property
    def needs_soffice(self) -> bool:
        return self.renderer is None


def _docx(truth: dict[str, Any], style: str) -> tuple[str, bytes]:
    return render_docx.render(truth, "docx_template")


STYLES: tuple[Style, ...] = (
    Style("docx_v2021", "docx", "docx", _docx, (VARIANT_CYCLE[0], VARIANT_CYCLE[3])),
    Style("docx_v2019", "docx", "docx", _docx, (VARIANT_CYCLE[1],)),
    Style("docx_hybrid", "docx", "docx", _docx, (VARIANT_CYCLE[2],)),
    Style("pdf_word_export", "pdf", "pdf", None),
    Style("pdf_repeat_header", "pdf", "pdf", None, docx_source="docx_repeat_header"),
    Style("pdf_distributed", "pdf", "pdf", None, docx_source="docx_distributed"),
    Style("pdf_unruled", "pdf", "pdf", None, docx_source="docx_unruled"),
    Style("pdf_blank_zeros", "pdf", "pdf", None, docx_source="docx_blank_zeros"),
    Style("doc_word97", "doc", "doc", None),
    # WPS Office's .wps files are Word 97 documents under another name.
    Style("wps_word97", "wps", "wps", None, convert_to="doc"),
    Style("xls_excel97", "xls", "xls", None, docx_source="xlsx_openpyxl"),
    *(Style(name, "xlsx", "xlsx", render_xlsx.render) for name in render_xlsx.XLSX_STYLES),
    *(Style(name, "html", "html", render_html.render) for name in render_html.HTML_STYLES),
    *(
        Style(name, "txt", "md" if name.startswith("md_") else "txt", render_txt.render)
        for name in render_txt.TXT_STYLES
    ),
)
STYLES_BY_NAME = {s.name: s for s in STYLES}
FAST_STYLES = tuple(s.name for s in STYLES if s.input_format in ("html", "txt"))
# Styles that carry the tables only (an office's statistics workbook): a person must ask for
# the narrative sections, so their reports are held (SEC-MISSING-*) by design.
TABLES_ONLY_STYLES = frozenset({"xlsx_tables_only"})


@dataclass
class CorpusItem:
    path: Path
    style: str
    input_format: str
    truth: dict[str, Any]


def generator_version() -> str:
    """Hash of the generator's code and template: a change invalidates every cached corpus."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    digest.update(render_docx.template_path().read_bytes())
    return digest.hexdigest()[:12]


def default_corpus_dir(*, per_style: int, seed: int) -> Path:
    return REPO / "var" / "corpus" / f"{generator_version()}-s{seed}-n{per_style}"


def truth_for(style: Style, index: int, seed: int) -> dict[str, Any]:
    """The truth of item `index` of a style; deterministic (string seeds hash stably)."""
    offset = [s.name for s in STYLES].index(style.name) if style.name in STYLES_BY_NAME else 0
    report_format, hybrid, kind = style.variants[(index + offset) % len(style.variants)]
    rng = random.Random(f"{seed}:{style.name}:{index}")
    return random_truth(rng, report_format=report_format, hybrid=hybrid, kind=kind)


def render_fast(truth: dict[str, Any], style: str) -> tuple[str, bytes]:
    """Render without LibreOffice (HTML and TXT styles): thousands of reports per minute."""
    if style not in FAST_STYLES:
        raise ValueError(f"{style!r} is not a fast style; choose from {FAST_STYLES}")
    renderer = STYLES_BY_NAME[style].renderer
    assert renderer is not None
    return renderer(truth, style)


def report_of(agency: str, year: int, variant: int = 0) -> bytes:
    """A consistent v2021 agency report (TXT, UTF-8) printed under `agency` for `year`:
    for tests that need several reports of one series, or one agency's report in another's hands."""
    truth = with_agency(random_truth(random.Random(f"report-of:{variant}"), kind="agency"), agency)
    text = render_fast(truth, "txt_tab_seed")[1].decode("utf-8")
    return text.replace(f"{truth['year']}年", f"{year}年").encode("utf-8")


def iter_fast_reports(count: int, *, seed: int) -> Iterator[tuple[str, str, bytes, dict[str, Any]]]:
    """`count` (style, filename, bytes, truth) for load tests, cycling through the fast styles."""
    for index in range(count):
        style = STYLES_BY_NAME[FAST_STYLES[index % len(FAST_STYLES)]]
        truth = truth_for(style, index // len(FAST_STYLES), seed)
        filename, data = render_fast(truth, style.name)
        yield style.name, filename, data, truth


def build_corpus(
    out_dir: Path, *, per_style: int, seed: int, styles: tuple[str, ...] | None = None
) -> list[CorpusItem]:
    """Render every style `per_style` times into `out_dir`; reuses the files of an identical earlier build.

    Styles that need LibreOffice are left out when `soffice` is not installed. Test
    processes running side by side build one at a time: the second finds the first's files.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with (out_dir.parent / ".corpus-build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_corpus(out_dir, per_style=per_style, seed=seed, styles=styles)


def _build_corpus(
    out_dir: Path, *, per_style: int, seed: int, styles: tuple[str, ...] | None = None
) -> list[CorpusItem]:
    chosen = [STYLES_BY_NAME[name] for name in styles] if styles else list(STYLES)
    chosen = [s for s in chosen if not s.needs_soffice or soffice_available()]
    key = {
        "version": generator_version(),
        "per_style": per_style,
        "seed": seed,
        "styles": [s.name for s in chosen],
    }
    cached = _load_cached(out_dir, key)
    if cached is not None:
        return cached
    _prune_stale_versions(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    items: list[CorpusItem] = []
    # (LibreOffice target, source suffix, our extension) → {stem: source bytes}
    pending_conversions: dict[tuple[str, str, str], dict[str, bytes]] = {}
    pending_items: list[tuple[CorpusItem, str]] = []
    for style in chosen:
        for index in range(per_style):
            truth = truth_for(style, index, seed)
            stem = f"{style.name}-{index:03d}"
            item = CorpusItem(out_dir / f"{stem}.{style.extension}", style.name, style.input_format, truth)
            (out_dir / f"{stem}.truth.json").write_text(
                json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            if style.renderer is None:
                source_suffix = "xlsx" if style.docx_source.startswith("xlsx_") else "docx"
                render_source = render_xlsx.render if source_suffix == "xlsx" else render_docx.render
                batch = (style.convert_to or style.extension, source_suffix, style.extension)
                pending_conversions.setdefault(batch, {})[stem] = render_source(truth, style.docx_source)[1]
                pending_items.append((item, stem))
            else:
                item.path.write_bytes(style.renderer(truth, style.name)[1])
            items.append(item)
    for (target, source_suffix, extension), sources in pending_conversions.items():
        for stem, data in convert_batch(sources, target, source_suffix).items():
            (out_dir / f"{stem}.{extension}").write_bytes(data)
    (out_dir / MANIFEST).write_text(
        json.dumps({**key, "items": [_manifest_entry(i) for i in items]}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    return items


def _prune_stale_versions(out_dir: Path) -> None:
    """Delete default-location corpora of older generator versions (they can never be reused)."""
    cache_root = REPO / "var" / "corpus"
    if out_dir.parent != cache_root or not cache_root.is_dir():
        return
    for sibling in cache_root.iterdir():
        if sibling.is_dir() and not sibling.name.startswith(generator_version() + "-"):
            shutil.rmtree(sibling)


def _manifest_entry(item: CorpusItem) -> dict[str, str]:
    return {"file": item.path.name, "style": item.style, "input_format": item.input_format}


def _load_cached(out_dir: Path, key: dict[str, Any]) -> list[CorpusItem] | None:
    manifest_path = out_dir / MANIFEST
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if {k: manifest.get(k) for k in key} != key:
        return None
    items = []
    for entry in manifest["items"]:
        path = out_dir / entry["file"]
        truth_path = path.with_name(path.name.rsplit(".", 1)[0] + ".truth.json")
        if not path.exists() or not truth_path.exists():
            return None
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        items.append(CorpusItem(path, entry["style"], entry["input_format"], truth))
    return items


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, help="output directory (default: var/corpus/<version>-…)")
    parser.add_argument("--per-style", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--style", action="append", help="only this style (repeatable)")
    args = parser.parse_args(argv)
    out = args.out or default_corpus_dir(per_style=args.per_style, seed=args.seed)
    items = build_corpus(
        out, per_style=args.per_style, seed=args.seed, styles=tuple(args.style) if args.style else None
    )
    counts: dict[str, int] = {}
    for item in items:
        counts[item.input_format] = counts.get(item.input_format, 0) + 1
    print(f"{len(items)} reports in {out}: " + ", ".join(f"{n} {f}" for f, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
