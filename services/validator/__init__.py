"""The validator: every consistency rule of the domain spec §6, applied to one ParsedReport.

    findings = validate(report, ValidationContext(as_of=date.today(), previous=last_year))
    decide(findings)  # "approved" | "needs_review" | "rejected"

Modules: catalogue (rule IDs and messages), structure (META/SEC/TBL), tables_two_four
(NUM/T2/T4), table_three (T3 and culprit pinning via arithmetic), narrative (NARR),
cross_year (XY), copied_text (PEER/XY-DUP-TEXT, PeerTextIndex), aggregate (AGG),
agency (names and levels), engine (validate/decide).
"""

from .agency import derive_level, normalise_agency_name
from .catalogue import RuleSpec, catalogue_markdown, rule_catalogue
from .copied_text import PeerTextIndex, peer_texts, text_signature
from .engine import Decision, ValidationContext, decide, validate

__all__ = [
    "Decision",
    "PeerTextIndex",
    "RuleSpec",
    "ValidationContext",
    "catalogue_markdown",
    "decide",
    "derive_level",
    "normalise_agency_name",
    "peer_texts",
    "rule_catalogue",
    "text_signature",
    "validate",
]
