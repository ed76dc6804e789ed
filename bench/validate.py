"""Validator benchmark (prints figures; not a test).

1. In-report rules: validate() on consistent and defective synthetic reports, one core,
   without context → ms per report (target ≤ 5 ms).
2. Copied-text + cross-year checks over 10,000 synthetic stored reports: signatures,
   index build from stored signatures, one PEER query and the cross-year rules per report
   (target: all under a minute).
3. Decisions without a person: the corpus generator's consistent reports in every style
   (tests/corpus), parsed and validated → the share `approved` (target ≥ 98 %), per style,
   and the rules behind the rest. The LibreOffice styles come from the cached corpus
   (`--corpus-per-style`), the fast HTML/TXT styles are rendered in memory (`--fast-per-style`).

    .venv/bin/python bench/validate.py [--reports 10000] [--decisions-only]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.validator import PeerTextIndex, ValidationContext, text_signature, validate  # noqa: E402
from services.validator.copied_text import copy_check_text  # noqa: E402
from services.validator.cross_year import check_cross_year  # noqa: E402
from tests.corpus.generate import TABLES_ONLY_STYLES  # noqa: E402
from tests.validator.decisions import decision_tally  # noqa: E402
from tests.validator.helpers import REAL, consistent_report, truth_report  # noqa: E402

PHRASES = (
    "坚持以人民为中心的发展思想", "围绕重点领域信息公开", "及时回应社会关切", "加强政策解读", "完善依申请公开办理流程",
    "推进基层政务公开标准化规范化", "强化政府网站和政务新媒体管理", "落实保密审查机制", "开展业务培训", "健全考核评估制度",
    "公开重大建设项目批准和实施信息", "发布办事服务指南", "提升公开质量和实效", "畅通公众参与渠道", "做好人大建议政协提案公开",
)
TOPICS = ("水务", "教育", "民政", "交通", "卫生健康", "市场监管", "自然资源", "生态环境", "住房城乡建设", "农业农村")


def narrative(rng: random.Random, words: int = 40) -> str:
    return "，".join(f"{rng.choice(TOPICS)}领域{rng.choice(PHRASES)}{rng.randint(1, 500)}项" for _ in range(words)) + "。"


def bench_in_report(n: int) -> None:
    reports = [consistent_report(i, ("v2021", "v2019", "hybrid")[i % 3]) for i in range(n)]
    for i, r in enumerate(reports[::4]):  # a quarter carry one defect, so culprit search runs too
        key = next((k for k, v in r.cells.items() if k.startswith("t3_") and v), None)
        if key:
            r.cells[key] = (r.cells[key] or 0) + 1 + i % 3
    context = ValidationContext(as_of=dt.date(2025, 6, 1))
    start = time.perf_counter()
    for r in reports:
        validate(r, context)
    elapsed = time.perf_counter() - start
    real = [truth_report(name) for name in ("huaian-hongze-2023", "shanghai-govoffice-2025", "luoyang-xigong-2022")
            if (REAL / f"{name}.truth.json").exists()]
    if real:
        start = time.perf_counter()
        for _ in range(100):
            for r in real:
                validate(r, context)
        per = (time.perf_counter() - start) / (100 * len(real))
        print(f"in-report rules on the real truth reports (with narrative): {per * 1000:.2f} ms/report")
    print(f"in-report rules: {n} synthetic reports in {elapsed:.2f} s → {elapsed / n * 1000:.2f} ms/report, "
          f"{n / elapsed:.0f} reports/s (target ≤ 5 ms)")


def bench_corpus(n: int) -> None:
    rng = random.Random(7)
    templates = [narrative(rng, 60) for _ in range(50)]
    reports = []
    for i in range(n):
        r = consistent_report(i % 500)
        r.agency = f"某某{i // 10}区{TOPICS[i % 10]}局{i}"
        # Every 50th report copies sections 一 and 五 of the same source; the rest write their own.
        if i % 50 == 0:
            r.sections["1"], r.sections["5"] = templates[0], templates[1][:300]
        else:
            r.sections["1"], r.sections["5"] = narrative(rng, 60), narrative(rng, 15)
        reports.append(r)
    previous = []
    for r in reports:
        p = consistent_report(hash(r.agency) % 500)
        p.year, p.agency, p.sections = 2022, r.agency, dict(r.sections)
        previous.append(p)

    t0 = time.perf_counter()
    signatures = [(str(i), r.agency or "", text_signature(copy_check_text(r))) for i, r in enumerate(reports)]
    t1 = time.perf_counter()
    index = PeerTextIndex.from_signatures(signatures)
    t2 = time.perf_counter()
    hits = sum(bool(index.similar_to_signature(sig, exclude_agency=agency)) for _, agency, sig in signatures)
    t3 = time.perf_counter()
    xy = sum(len(check_cross_year(r, p)) for r, p in zip(reports, previous, strict=True))
    t4 = time.perf_counter()
    print(f"copied text, {n} reports: signatures {t1 - t0:.1f} s, index from signatures {t2 - t1:.1f} s, "
          f"{n} queries {t3 - t2:.1f} s ({hits} reports with a near-copy)")
    print(f"cross-year rules incl. XY-DUP-TEXT, {n} pairs: {t4 - t3:.1f} s ({xy} findings)")
    print(f"total {t4 - t0:.1f} s (target < 60 s)")


def bench_decisions(corpus_per_style: int, fast_per_style: int, seed: int) -> None:
    tally = decision_tally(corpus_per_style=corpus_per_style, fast_per_style=fast_per_style, seed=seed)
    print(f"decisions on the generator's consistent reports (seed {seed}):")
    print(f"{'style':26} {'reports':>7} {'approved':>9}  held by")
    for style, entry in tally.by_style.items():
        held = ", ".join(f"{rule} ×{n}" for rule, n in entry.holding_rules.most_common()) or "-"
        print(f"{style:26} {entry.reports:7d} {entry.share:9.1%}  {held}")
    for style in TABLES_ONLY_STYLES:  # no narrative: held for it by design, not counted
        tally.by_style.pop(style, None)
    print(f"approved with no person involved: {tally.approved}/{tally.reports} = {tally.pooled_share:.1%} of reports, "
          f"{tally.style_share:.1%} averaged over {len(tally.by_style)} styles (target ≥ 98 %)")
    for rule, n in tally.holding_rules.most_common():
        print(f"  held by {rule}: {n} reports")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--in-report", type=int, default=2_000)
    parser.add_argument("--corpus-per-style", type=int, default=4)
    parser.add_argument("--fast-per-style", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--decisions-only", action="store_true")
    args = parser.parse_args()
    bench_decisions(args.corpus_per_style, args.fast_per_style, args.seed)
    if args.decisions_only:
        return
    bench_in_report(args.in_report)
    bench_corpus(args.reports)


if __name__ == "__main__":
    main()
