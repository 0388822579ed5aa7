"""The scoring rules (service_quality/scoring.py): weights, not applicable, critical fail."""

from decimal import Decimal

import pytest

from service_quality.scoring import CriterionAnswer, fraction, score


def ans(answer, *, scale="yes_no", weight=1, critical=False, code="c"):
    return CriterionAnswer(
        code=code, scale=scale, weight=weight, is_critical=critical, answer=answer
    )


def test_weights_count_in_proportion():
    result = score([ans("yes", weight=3), ans("no", weight=1)], pass_mark=80)
    assert result.percent == Decimal("75.00")
    assert result.is_passed is False


def test_all_yes_is_a_hundred_and_passes():
    result = score([ans("yes", weight=2), ans("5", scale="one_to_five", weight=5)], pass_mark=80)
    assert result.percent == Decimal("100.00")
    assert result.is_passed is True


@pytest.mark.parametrize(
    ("value", "share"), [("1", "0"), ("2", "0.25"), ("3", "0.5"), ("4", "0.75"), ("5", "1")]
)
def test_five_point_scale_maps_one_to_zero_and_five_to_one(value, share):
    assert fraction("one_to_five", value) == Decimal(share)


def test_not_applicable_leaves_the_denominator():
    with_na = score([ans("yes", weight=1), ans("na", weight=9)], pass_mark=80)
    assert with_na.percent == Decimal("100.00")
    assert with_na.possible == 1


def test_not_applicable_on_the_five_point_scale():
    result = score(
        [ans("na", scale="one_to_five", weight=4), ans("3", scale="one_to_five", weight=2)],
        pass_mark=50,
    )
    assert result.percent == Decimal("50.00")
    assert result.is_passed is True


def test_only_not_applicable_has_no_score_and_does_not_pass():
    result = score([ans("na"), ans("na", scale="one_to_five")], pass_mark=0)
    assert result.percent is None
    assert result.is_passed is False


def test_critical_no_fails_whatever_the_total():
    result = score(
        [ans("no", critical=True, weight=1, code="privacy"), ans("yes", weight=99)], pass_mark=80
    )
    assert result.percent == Decimal("99.00")
    assert result.is_critical_fail is True
    assert result.is_passed is False
    assert result.failed_critical == ["privacy"]


@pytest.mark.parametrize(
    ("value", "fails"), [("1", True), ("2", True), ("3", False), ("5", False), ("na", False)]
)
def test_critical_five_point_fails_below_three(value, fails):
    result = score([ans(value, scale="one_to_five", critical=True), ans("yes")], pass_mark=0)
    assert result.is_critical_fail is fails


def test_critical_not_applicable_is_not_a_fail():
    result = score([ans("na", critical=True), ans("yes")], pass_mark=80)
    assert result.is_critical_fail is False
    assert result.is_passed is True


def test_pass_mark_is_inclusive():
    result = score([ans("yes", weight=4), ans("no", weight=1)], pass_mark=80)
    assert result.percent == Decimal("80.00")
    assert result.is_passed is True


def test_rounding_is_half_up_to_two_places():
    # 2/3 = 66.666... -> 66.67
    result = score([ans("yes", weight=2), ans("no", weight=1)], pass_mark=0)
    assert result.percent == Decimal("66.67")


def test_unanswered_are_listed_and_leave_the_result_open():
    result = score([ans("yes"), ans(None, code="empathy")], pass_mark=80)
    assert result.unanswered == ["empathy"]
    assert result.is_passed is None


@pytest.mark.parametrize("bad", ["maybe", "6", "0", "YES", 1, " yes"])
def test_an_answer_off_the_scale_is_refused(bad):
    with pytest.raises(ValueError):
        score([ans(bad)], pass_mark=80)
    with pytest.raises(ValueError):
        score([ans(bad, scale="one_to_five")], pass_mark=80)


def test_yes_on_the_five_point_scale_is_refused():
    with pytest.raises(ValueError):
        fraction("one_to_five", "yes")


def test_zero_weight_is_refused():
    with pytest.raises(ValueError):
        score([ans("yes", weight=0)], pass_mark=80)
