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


def with_defect(truth: dict[str, Any]) -> dict[str, Any]:
    """One applicant's application counted twice: T3 sums no longer agree."""
    key = "t3_granted__natural"
    truth["cells"][key] = (truth["cells"][key] or 0) + 1
    truth["markers"].pop(key, None)
    truth["blank_cells"] = [k for k in truth["blank_cells"] if k != key]
    return truth


def main() -> None:
    rng = random.Random(20260131)
    if SAMPLES.exists():
        shutil.rmtree(SAMPLES)
    SAMPLES.mkdir()
    files: dict[str, bytes] = {}
    for index, style in enumerate(("html_trs_utf8", "html_jcms_gb2312", "txt_tab_seed", "md_pdf_dump")):
        name, data = render_fast(random_truth(rng), style)
        files[f"{index + 1:02d}-{Path(name).stem}{Path(name).suffix}"] = data
    name, data = render_fast(random_truth(rng, kind="summary"), "html_trs_utf8")
    files[f"05-{Path(name).stem}.html"] = data
    name, docx_bytes = render_docx.render(random_truth(rng))
    files[f"06-{Path(name).stem}.docx"] = docx_bytes
    if soffice_available():
        pdf = convert_batch({"report.docx": render_docx.render(random_truth(rng))[1]}, "pdf")
        files["07-report.pdf"] = next(iter(pdf.values()))
    name, data = render_fast(with_defect(random_truth(rng)), "html_trs_utf8")
    files[f"08-{Path(name).stem}.html"] = data
    files["09-meeting-notes.txt"] = "会议纪要\n\n今天讨论了办公室搬迁事宜。\n".encode()
    for filename, data in files.items():
        (SAMPLES / filename).write_bytes(data)
        print(filename, len(data))


if __name__ == "__main__":
    main()
