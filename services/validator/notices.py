"""Notices per agency: the harmless deviations of a year, counted for next year's guidance.

A notice (see catalogue.py) never holds a report, but the same deviation repeated by an
agency year after year is what the next guidance should address. Pure: the caller passes
each agency's latest findings (as stored in `Document.findings`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def notice_counts(latest: Iterable[tuple[str, Sequence[Mapping[str, Any]]]]) -> dict[str, Counter[str]]:
    """agency → rule → notices, over (agency, findings) pairs; agencies without notices are left out."""
    out: dict[str, Counter[str]] = {}
    for agency, findings in latest:
        counted = Counter(str(f.get("rule")) for f in findings if f.get("severity") == "notice")
        if counted:
            out.setdefault(agency, Counter()).update(counted)
    return dict(sorted(out.items(), key=lambda item: (-sum(item[1].values()), item[0])))


def notice_lines(counts: Mapping[str, Counter[str]]) -> list[str]:
    """One line per agency: its total, then each rule with its count, most frequent first."""
    return [
        f"{agency}\t{sum(rules.values())}\t" + ", ".join(f"{rule} ×{n}" for rule, n in rules.most_common())
        for agency, rules in counts.items()
    ]
