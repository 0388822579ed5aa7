"""The scoring rules of an evaluation, as pure functions (no database), so that pages, the API,
calibration and the automatic evaluator all score alike.

- Each answered criterion earns a fraction of its weight: yes = 1, no = 0; on the 1-5 scale,
  (value - 1) / 4, so 1 = 0, 3 = 0.5, 5 = 1.
- "Not applicable" leaves the criterion out of both the points and the denominator.
- The score is 100 x earned weight / applicable weight, rounded half up to two decimals;
  with no applicable criterion there is no score (None), and the evaluation cannot pass.
- A critical criterion failed (no, or 1 or 2 on the 1-5 scale) fails the evaluation whatever
  the total (decision record 0030).
- Passed = no critical fail and score >= the scorecard's pass mark.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

YES, NO, NA = "yes", "no", "na"
SCALE_YES_NO = "yes_no"
SCALE_FIVE = "one_to_five"
FIVE_POINT_VALUES = ("1", "2", "3", "4", "5")
ANSWERS = {SCALE_YES_NO: (YES, NO, NA), SCALE_FIVE: (*FIVE_POINT_VALUES, NA)}
# On the 1-5 scale a critical criterion fails below "meets expectations" (3).
FIVE_POINT_FAIL_BELOW = 3


@dataclass(frozen=True)
class CriterionAnswer:
    code: str  # a label for messages (the criterion's label or id)
    scale: str
    weight: int
    is_critical: bool
    answer: str | None  # None: not answered yet


@dataclass
class ScoreResult:
    percent: Decimal | None
    earned: Decimal
    possible: Decimal
    is_critical_fail: bool
    is_passed: bool | None
    failed_critical: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)


def is_valid_answer(scale: str, answer) -> bool:
    return isinstance(answer, str) and answer in ANSWERS.get(scale, ())


def fraction(scale: str, answer: str) -> Decimal | None:
    """The share of the weight an answer earns; None for not applicable."""
    if not is_valid_answer(scale, answer):
        raise ValueError(f"{answer!r} is not an answer on the {scale} scale")
    if answer == NA:
        return None
    if scale == SCALE_YES_NO:
        return Decimal(1) if answer == YES else Decimal(0)
    return (Decimal(int(answer)) - 1) / 4


def is_failed(scale: str, answer: str) -> bool:
    if answer == NA:
        return False
    if scale == SCALE_YES_NO:
        return answer == NO
    return int(answer) < FIVE_POINT_FAIL_BELOW


def score(answers: Iterable[CriterionAnswer], *, pass_mark: int) -> ScoreResult:
    earned = Decimal(0)
    possible = Decimal(0)
    failed_critical, unanswered = [], []
    for item in answers:
        if item.weight < 1:
            raise ValueError(f"criterion {item.code}: weight must be at least 1")
        if item.answer in (None, ""):
            unanswered.append(item.code)
            continue
        share = fraction(item.scale, item.answer)
        if item.is_critical and is_failed(item.scale, item.answer):
            failed_critical.append(item.code)
        if share is None:
            continue
        earned += share * item.weight
        possible += item.weight
    percent = None
    if possible:
        percent = (earned * 100 / possible).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    is_critical_fail = bool(failed_critical)
    if unanswered:
        is_passed = None
    else:
        is_passed = not is_critical_fail and percent is not None and percent >= pass_mark
    return ScoreResult(
        percent=percent,
        earned=earned,
        possible=possible,
        is_critical_fail=is_critical_fail,
        is_passed=is_passed,
        failed_critical=failed_critical,
        unanswered=unanswered,
    )
