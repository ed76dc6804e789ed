"""How many of the corpus generator's consistent reports go through with no person involved.

Shared by tests/validator/test_decisions.py (which pins the share) and bench/validate.py
(which prints it). Every style of tests/corpus counts: the LibreOffice styles from the
cached corpus (`build_corpus`, the same files as the parser's accuracy test), the fast
HTML/TXT styles rendered in memory, as many per style as asked.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from services.parser import parse_document
from services.validator import ValidationContext, decide, validate
from shared.report import UnreadableDocument
from tests.corpus.generate import (
    FAST_STYLES,
    STYLES_BY_NAME,
    build_corpus,
    default_corpus_dir,
    render_fast,
    truth_for,
)

# Generated reports are published in Y+1; judge them a few months after, as the pipeline would.
AS_OF = dt.date(2026, 6, 1)
HOLDING = ("warning", "error")


@dataclass
class StyleTally:
    reports: int = 0
    approved: int = 0
    holding_rules: Counter[str] = field(default_factory=Counter)  # rule → reports it held

    @property
    def share(self) -> float:
        return self.approved / self.reports if self.reports else 0.0


@dataclass
class DecisionTally:
    by_style: dict[str, StyleTally] = field(default_factory=dict)

    @property
    def reports(self) -> int:
        return sum(s.reports for s in self.by_style.values())

    @property
    def approved(self) -> int:
        return sum(s.approved for s in self.by_style.values())

    @property
    def pooled_share(self) -> float:
        return self.approved / self.reports if self.reports else 0.0

    @property
    def style_share(self) -> float:
        """Each style weighs the same, as in the corpus (a fixed number of reports per style)."""
        shares = [s.share for s in self.by_style.values() if s.reports]
        return sum(shares) / len(shares) if shares else 0.0

    @property
    def holding_rules(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for entry in self.by_style.values():
            total.update(entry.holding_rules)
        return total


def judge(data: bytes, filename: str, style: str, tally: DecisionTally) -> None:
    entry = tally.by_style.setdefault(style, StyleTally())
    entry.reports += 1
    try:
        report = parse_document(data, filename)
    except UnreadableDocument as error:
        entry.holding_rules[f"unreadable: {error.code}"] += 1
        return
    findings = validate(report, ValidationContext(as_of=AS_OF))
    if decide(findings) == "approved":
        entry.approved += 1
        return
    entry.holding_rules.update({f.rule for f in findings if f.severity in HOLDING})


def decision_tally(*, corpus_per_style: int, fast_per_style: int, seed: int) -> DecisionTally:
    tally = DecisionTally()
    items = build_corpus(
        default_corpus_dir(per_style=corpus_per_style, seed=seed), per_style=corpus_per_style, seed=seed
    )
    for item in items:
        if item.style not in FAST_STYLES:
            judge(item.path.read_bytes(), item.path.name, item.style, tally)
    for style in FAST_STYLES:
        for index in range(fast_per_style):
            filename, data = render_fast(truth_for(STYLES_BY_NAME[style], index, seed), style)
            judge(data, filename, style, tally)
    return tally
