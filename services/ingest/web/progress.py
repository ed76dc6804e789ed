"""Where an agency's report stands, as five steps and the one next thing to do.

received → read → checked → in review → published, from the document's status alone
(pure; the pages and the JSON status endpoint both use it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from shared.models import Stage, Status

StepState = Literal["done", "current", "todo", "stopped"]
STEPS: tuple[tuple[str, str, str], ...] = (
    ("received", "接收", "Received"),
    ("read", "读取", "Read"),
    ("checked", "核对", "Checked"),
    ("review", "审核", "In review"),
    ("published", "发布", "Published"),
)
STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.received: ("已接收，等待读取", "received, waiting to be read"),
    Status.parsing: ("正在读取", "being read"),
    Status.parsed: ("已读取，等待核对", "read, waiting to be checked"),
    Status.validating: ("正在核对", "being checked"),
    Status.needs_review: ("等待人工审核", "waiting for a reviewer"),
    Status.rejected: ("退回修改", "rejected: needs a corrected version"),
    Status.approved: ("已通过，等待发布", "approved, waiting to be published"),
    Status.publishing: ("正在发布", "being published"),
    Status.published: ("已发布", "published"),
    Status.failed: ("无法处理", "could not be processed"),
    Status.superseded: ("已被取代", "superseded"),
}
# Where the agency's wait ends: the pages stop polling a document in one of these.
SETTLED_FOR_AGENCY = frozenset(
    {Status.needs_review, Status.rejected, Status.published, Status.failed, Status.superseded}
)
_CURRENT_STEP = {
    Status.received: 1,
    Status.parsing: 1,
    Status.parsed: 2,
    Status.validating: 2,
    Status.needs_review: 3,
    Status.approved: 4,
    Status.publishing: 4,
}
_FAILED_STEP = {Stage.parse: 1, Stage.validate: 2, Stage.publish: 4}


@dataclass(frozen=True)
class Step:
    key: str
    zh: str
    en: str
    state: StepState


@dataclass(frozen=True)
class Progress:
    steps: tuple[Step, ...]
    next_zh: str
    next_en: str
    tone: Literal["wait", "act", "done"]  # does the agency have to do something?
    fix: bool  # offer "submit a corrected version"


def _steps(current: int, stopped: bool = False) -> tuple[Step, ...]:
    def state(index: int) -> StepState:
        if index < current:
            return "done"
        if index == current:
            return "stopped" if stopped else "current"
        return "todo"

    return tuple(Step(key, zh, en, state(i)) for i, (key, zh, en) in enumerate(STEPS))


def progress_of(
    status: Status, failed_stage: Stage | None = None, duplicate_of: int | None = None
) -> Progress:
    if status in _CURRENT_STEP:
        current = _CURRENT_STEP[status]
        if status == Status.needs_review:
            return Progress(
                _steps(current),
                "等待审核人员处理；若发现报告本身有误，可以提交更正版本。",
                "Wait for the reviewer; if the report itself is wrong, submit a corrected version.",
                "wait",
                True,
            )
        return Progress(
            _steps(current),
            "无需操作：系统正在处理。",
            "Nothing to do: the system is working on it.",
            "wait",
            False,
        )
    if status == Status.published:
        return Progress(
            _steps(len(STEPS)),
            "无需操作：报告已公开。",
            "Nothing to do: the report is public.",
            "done",
            False,
        )
    if status == Status.rejected:
        return Progress(
            _steps(3, stopped=True),
            "按审核意见或核对结果修改报告，然后提交更正版本。",
            "Fix the report as the reviewer or the findings say, then submit a corrected version.",
            "act",
            True,
        )
    if status == Status.failed:
        step = _FAILED_STEP.get(failed_stage or Stage.parse, 1)
        if step == 1:
            return Progress(
                _steps(step, stopped=True),
                "文件无法读取：请提交可复制文字的 PDF、Word、Excel 或网页版本。",
                "The file could not be read: submit a PDF with selectable text, Word, Excel or HTML.",
                "act",
                True,
            )
        return Progress(
            _steps(step, stopped=True),
            "系统处理出错，运维人员会处理，无需重复提交。",
            "The system failed on this file; operations will handle it, no need to resubmit.",
            "wait",
            False,
        )
    if duplicate_of is not None:
        return Progress(
            _steps(1),
            f"与已收到的文件（文档 {duplicate_of}）完全相同，未重复处理；请查看那一份。",
            f"Identical to a file already received (document {duplicate_of}); see that one.",
            "done",
            False,
        )
    return Progress(
        _steps(len(STEPS)),
        "无需操作：已有更新的版本。",
        "Nothing to do: a newer version replaced it.",
        "done",
        False,
    )


def agency_note(
    status: Status, decision_reason: str | None, error: str | None, findings: list[dict[str, Any]] | None
) -> tuple[str, str] | None:
    """What the agency is told about why a report stopped: the reviewer's reason, the
    checks that rejected it, or why the file could not be processed."""
    if decision_reason:
        return decision_reason, decision_reason
    if status == Status.rejected and findings:
        rules = sorted({f["rule"] for f in findings if f.get("severity") == "error"})
        if rules:
            listed = "、".join(rules)
            return (
                f"系统核对发现 {len(rules)} 项不一致：{listed}（详见报告页）",
                f"The checks found {len(rules)} inconsistencies: {', '.join(rules)} (see the report's page)",
            )
    if status == Status.failed and error:
        return error, error
    return None
