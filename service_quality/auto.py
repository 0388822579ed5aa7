"""The automatic evaluator's measures (issue 17 item 4): what can be measured on every
interaction without a person. Pure functions over plain values, so the labelled set
(tests/service_quality/data/labelled_interactions.csv) exercises exactly what the task runs.

- Sentiment: VADER (vaderSentiment, its lexicon ships inside the package; nothing is downloaded)
  compound score; >= 0.05 positive, <= -0.05 negative, else neutral (VADER's own thresholds).
- Friction: the managed phrase list (FrictionPhrase), whole words, case-insensitive; a trailing
  * matches any ending.
- Required statements: a criterion's phrases; any one present satisfies it.
- Times against the complaint's SLA, reopen, survey scores: from the complaint's own columns.

Every result says which method and version produced it (METHOD_VERSION), so a changed rule is
visible in the stored scores and a re-run can tell old results from new.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version

from service_quality import scoring

RULES_VERSION = "1"


@lru_cache(maxsize=1)
def method_version() -> str:
    return f"sq-auto/{RULES_VERSION} vader/{version('vaderSentiment')}"


POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def normalise(text: str) -> str:
    return (
        (text or "")
        .replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
    )


def sentiment(text: str) -> tuple[float, str]:
    """(compound in -1..1, label)."""
    text = normalise(text).strip()
    if not text:
        return 0.0, "neutral"
    compound = _analyzer().polarity_scores(text)["compound"]
    if compound >= POSITIVE_AT:
        return compound, "positive"
    if compound <= NEGATIVE_AT:
        return compound, "negative"
    return compound, "neutral"


def _phrase_pattern(phrase: str) -> str:
    phrase = phrase.strip().lower()
    prefix = phrase.endswith("*")
    words = [re.escape(w) for w in phrase.rstrip("*").split()]
    body = r"\s+".join(words)
    return rf"\b{body}\w*" if prefix else rf"\b{body}\b"


@lru_cache(maxsize=64)
def _compiled(phrases: tuple[str, ...]):
    return [
        (p, re.compile(_phrase_pattern(p), re.IGNORECASE))
        for p in phrases
        if p.strip().rstrip("*").strip()
    ]


def phrases_found(text: str, phrases) -> list[str]:
    """The phrases of the list that occur in the text, in list order."""
    text = normalise(text)
    return [phrase for phrase, pattern in _compiled(tuple(phrases)) if pattern.search(text)]


@dataclass(frozen=True)
class Facts:
    """What was measured on one interaction."""

    text: str
    sentiment_compound: float
    sentiment: str
    friction: list[str]
    first_response_in_sla: bool | None
    resolution_in_sla: bool | None
    is_reopened: bool | None
    csat: int | None
    nps: int | None


def answer_for(rule: str, scale: str, facts: Facts, *, phrases=()) -> tuple[str, str]:
    """(answer on the criterion's scale, evidence) for one automatic rule."""
    five = scale == scoring.SCALE_FIVE

    def yes_no(ok: bool | None, evidence: str) -> tuple[str, str]:
        if ok is None:
            return scoring.NA, evidence
        if five:
            return ("5" if ok else "1"), evidence
        return (scoring.YES if ok else scoring.NO), evidence

    if rule == "sentiment":
        if five:
            # -1..1 onto 1..5
            value = max(1, min(5, round(1 + (facts.sentiment_compound + 1) * 2)))
            return str(value), f"compound {facts.sentiment_compound:+.3f}"
        return yes_no(
            facts.sentiment != "negative",
            f"{facts.sentiment} (compound {facts.sentiment_compound:+.3f})",
        )
    if rule == "no_friction":
        return yes_no(
            not facts.friction,
            ("found: " + ", ".join(facts.friction))[:300] if facts.friction else "none found",
        )
    if rule == "required_phrase":
        found = phrases_found(facts.text, phrases)
        return yes_no(bool(found), ("found: " + ", ".join(found))[:300] if found else "not found")
    if rule == "first_response_sla":
        return yes_no(facts.first_response_in_sla, "first response vs SLA")
    if rule == "resolution_sla":
        return yes_no(facts.resolution_in_sla, "resolution vs SLA")
    if rule == "not_reopened":
        return yes_no(
            None if facts.is_reopened is None else not facts.is_reopened, "reopen transitions"
        )
    if rule == "survey":
        if facts.csat is not None:
            if five:
                return str(facts.csat), f"CSAT {facts.csat}"
            return yes_no(facts.csat >= 4, f"CSAT {facts.csat}")
        if facts.nps is not None:
            if five:
                return str(max(1, min(5, round(facts.nps / 2.5) + 1))), f"NPS {facts.nps}"
            return yes_no(
                facts.nps >= 9 if facts.nps >= 9 or facts.nps <= 6 else None, f"NPS {facts.nps}"
            )
        return scoring.NA, "no survey answer"
    raise ValueError(f"unknown automatic rule {rule!r}")


def rules_key(*, criteria, friction) -> str:
    """One hash of the rules in force: method version, automatic criteria (id, rule, scale,
    phrases) and the active friction list. A change makes every interaction stale."""
    canonical = json.dumps(
        {"method": method_version(), "criteria": sorted(criteria), "friction": sorted(friction)},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


# The starting friction list (data migration 0004); Quality Managers manage it afterwards.
DEFAULT_FRICTION_PHRASES = (
    "still waiting",
    "still not",
    "still no",
    "still broken",
    "been waiting",
    "tired of waiting",
    "on hold",
    "second time",
    "third time",
    "fourth time",
    "fifth email",
    "three times",
    "how many times",
    "repeatedly",
    "again and again",
    "once again",
    "yet again",
    "keeps happening",
    "every time",
    "same issue",
    "same problem",
    "nobody",
    "no one",
    "no reply",
    "no response",
    "not heard",
    "chasing",
    "chase",
    "cancel*",
    "refund",
    "money back",
    "lawyer",
    "escalate*",
    "speak to a manager",
    "director",
    "formal complaint",
    "complained",
    "unacceptable",
    "ridiculous",
    "waste of time",
    "wasted",
    "fed up",
    "sick of",
    "frustrat*",
    "losing patience",
    "give up",
    "never buy",
    "elsewhere",
    "let down",
    "ignored",
    "passed from",
    "for months",
    "for weeks",
    "not good enough",
    "far too long",
    "failed again",
    "broken again",
    "leaking again",
)
