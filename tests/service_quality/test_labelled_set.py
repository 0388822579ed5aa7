"""The automatic evaluator on a labelled set written for it (tests/service_quality/data/
labelled_interactions.csv: 209 short customer interactions, each labelled by hand with the
expected sentiment and whether it shows friction). Precision and recall are computed and the
test fails below the stated floors; the figures are printed (pytest -s) and in the report.

Caveat, stated where the numbers are: the friction list and the set were written by the same
person, so friction figures are optimistic for unseen text; sentiment is VADER unchanged."""

import csv
from pathlib import Path

import pytest

from service_quality import auto

DATA = Path(__file__).parent / "data" / "labelled_interactions.csv"

# Floors (the measured figures are above them; a regression below fails the test).
NEGATIVE_PRECISION_FLOOR = 0.85
NEGATIVE_RECALL_FLOOR = 0.50
POSITIVE_PRECISION_FLOOR = 0.65
POSITIVE_RECALL_FLOOR = 0.85
FRICTION_PRECISION_FLOOR = 0.95
FRICTION_RECALL_FLOOR = 0.90
SENTIMENT_ACCURACY_FLOOR = 0.65


def rows():
    with DATA.open(newline="") as handle:
        return list(csv.DictReader(handle))


def precision_recall(pairs, positive):
    tp = sum(1 for want, got in pairs if want == positive and got == positive)
    fp = sum(1 for want, got in pairs if want != positive and got == positive)
    fn = sum(1 for want, got in pairs if want == positive and got != positive)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall


def test_the_set_has_at_least_200_labelled_interactions():
    data = rows()
    assert len(data) >= 200
    assert {r["sentiment"] for r in data} == {"positive", "neutral", "negative"}
    assert {r["friction"] for r in data} == {"0", "1"}
    assert len({r["text"] for r in data}) == len(data)  # no duplicates


def test_sentiment_precision_and_recall_above_the_floors():
    pairs = [(r["sentiment"], auto.sentiment(r["text"])[1]) for r in rows()]
    neg_p, neg_r = precision_recall(pairs, "negative")
    pos_p, pos_r = precision_recall(pairs, "positive")
    accuracy = sum(1 for want, got in pairs if want == got) / len(pairs)
    print(
        f"\nsentiment ({auto.method_version()}): accuracy {accuracy:.3f}; negative P {neg_p:.3f} R {neg_r:.3f}; positive P {pos_p:.3f} R {pos_r:.3f}; n={len(pairs)}"
    )
    assert neg_p >= NEGATIVE_PRECISION_FLOOR and neg_r >= NEGATIVE_RECALL_FLOOR
    assert pos_p >= POSITIVE_PRECISION_FLOOR and pos_r >= POSITIVE_RECALL_FLOOR
    assert accuracy >= SENTIMENT_ACCURACY_FLOOR


def test_friction_precision_and_recall_above_the_floors():
    pairs = [
        (r["friction"] == "1", bool(auto.phrases_found(r["text"], auto.DEFAULT_FRICTION_PHRASES)))
        for r in rows()
    ]
    precision, recall = precision_recall(pairs, True)
    print(
        f"\nfriction (default list of {len(auto.DEFAULT_FRICTION_PHRASES)} phrases): P {precision:.3f} R {recall:.3f}; n={len(pairs)}"
    )
    assert precision >= FRICTION_PRECISION_FLOOR
    assert recall >= FRICTION_RECALL_FLOOR


@pytest.mark.parametrize(
    ("text", "phrases", "found"),
    [
        ("We CANCELLED the order", ["cancel*"], ["cancel*"]),
        ("Still   waiting here", ["still waiting"], ["still waiting"]),
        ("stillwaiting", ["still waiting"], []),
        ("The nobodies", ["nobody"], []),
        ("", ["nobody"], []),
        ("Regex (.*) chars [a]", ["(.*)"], []),
        ("Your privacy notice applies", ["privacy notice", "data protection"], ["privacy notice"]),
        ("‘Still waiting’, she said", ["still waiting"], ["still waiting"]),
    ],
)
def test_phrase_matching_is_whole_words_and_case_insensitive(text, phrases, found):
    assert auto.phrases_found(text, phrases) == found


def test_empty_text_is_neutral():
    assert auto.sentiment("   ") == (0.0, "neutral")
