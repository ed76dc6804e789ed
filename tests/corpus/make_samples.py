"""Write the demo's sample reports to samples/ (run once; the output is committed).

    python -m tests.corpus.make_samples

Synthetic reports from the corpus generator in several formats, one with an
arithmetic defect (the demo shows it rejected) and one file that is no report at all
(the demo shows it failed with the reason).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

from tests.corpus import render_docx
from tests.corpus.generate import render_fast
from tests.corpus.render_office import convert_batch, soffice_available
from tests.corpus.truth import random_truth

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
REGISTRY = SAMPLES.parent / "samples-registry.csv"  # beside, not inside: it is no report


def with_defect(truth: dict[str, Any]) -> dict[str, Any]:
    """One applicant's application counted twice: T3 sums no longer agree."""
    key = "t3_granted__natural"
    truth["cells"][key] = (truth["cells"][key] or 0) + 1
    truth["markers"].pop(key, None)
    truth["blank_cells"] = [k for k in truth["blank_cells"] if k != key]
    return truth


def government_of(agency: str) -> str:
    """The people's government an agency reports to, from its name (good enough for the
    generator's names: "淮安市新华区人民政府办公室" → "淮安市新华区人民政府")."""
    for marker in ("区", "县"):
        cut = agency.find(marker)
        if cut > 0:
            return agency[: cut + 1] + "人民政府"
    return agency[: agency.find("市") + 1] + "人民政府"


def write_registry(agencies: list[str]) -> None:
    """Who reports to whom, plus one agency per government that has not published, so the
    demo's coverage page has something missing to show."""
    rows = sorted({(government_of(a), a) for a in agencies if not a.endswith("人民政府") or "镇" in a})
    rows += sorted({(g, g.removesuffix("人民政府") + "审计局") for g, _ in rows})
    REGISTRY.write_text("government,agency\n" + "".join(f"{g},{a}\n" for g, a in rows), encoding="utf-8")


def main() -> None:
    rng = random.Random(20260131)
    if SAMPLES.exists():
        shutil.rmtree(SAMPLES)
    SAMPLES.mkdir()
    files: dict[str, bytes] = {}
    agencies: list[str] = []

    def truth(**options: Any) -> dict[str, Any]:
        made = random_truth(rng, **options)
        agencies.append(made["agency"])
        return made

    for index, style in enumerate(("html_trs_utf8", "html_jcms_gb2312", "txt_tab_seed", "md_pdf_dump")):
        name, data = render_fast(truth(), style)
        files[f"{index + 1:02d}-{Path(name).stem}{Path(name).suffix}"] = data
    name, data = render_fast(truth(kind="summary"), "html_trs_utf8")
    files[f"05-{Path(name).stem}.html"] = data
    name, docx_bytes = render_docx.render(truth())
    files[f"06-{Path(name).stem}.docx"] = docx_bytes
    if soffice_available():
        pdf = convert_batch({"report.docx": render_docx.render(truth())[1]}, "pdf")
        files["07-report.pdf"] = next(iter(pdf.values()))
    name, data = render_fast(with_defect(truth()), "html_trs_utf8")
    files[f"08-{Path(name).stem}.html"] = data
    files["09-meeting-notes.txt"] = "会议纪要\n\n今天讨论了办公室搬迁事宜。\n".encode()
    for filename, data in files.items():
        (SAMPLES / filename).write_bytes(data)
        print(filename, len(data))
    write_registry(agencies)


if __name__ == "__main__":
    main()
