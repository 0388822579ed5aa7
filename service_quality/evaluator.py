"""The automatic evaluation of every interaction, in batches (issue 17 item 4; decision record
0031). `interactions_evaluate_batch` is the write; the Celery task calls it until nothing is
left. Incremental: only interactions with no analysis, or whose rules, complaint version or
latest survey changed since, are read. Idempotent and concurrency-safe: candidates are claimed
with FOR UPDATE SKIP LOCKED, and (interaction, criterion) is unique.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from complaints.models import Communication, Complaint, Survey
from qms.history import bulk_history, set_history
from qms.services import system_user
from service_quality import auto
from service_quality.models import (
    AutoScore,
    AutoScoreStatus,
    Criterion,
    FrictionPhrase,
    InteractionAnalysis,
    InteractionKind,
)
from service_quality.workflow import ScorecardStatus

DEFAULT_BATCH = 500


def current_rules():
    """(automatic criteria by kind, friction phrases, rules key): three small reads."""
    criteria = list(
        Criterion.objects.filter(scorecard__status=ScorecardStatus.IN_FORCE)
        .exclude(auto_rule="")
        .select_related("scorecard")
        .order_by("id")
    )
    by_kind = defaultdict(list)
    for criterion in criteria:
        by_kind[criterion.scorecard.applies_to].append(criterion)
    friction = list(
        FrictionPhrase.objects.filter(is_active=True)
        .order_by("phrase")
        .values_list("phrase", flat=True)
    )
    key = auto.rules_key(
        criteria=[[c.pk, c.auto_rule, c.scale, c.phrases] for c in criteria],
        friction=friction,
    )
    return by_kind, friction, key


def _latest_survey():
    return (
        Survey.objects.filter(complaint=OuterRef("pk"), answered_at__isnull=False)
        .order_by("-answered_at", "-id")
        .values("id")[:1]
    )


def stale_communications(rules_key: str):
    fresh = InteractionAnalysis.objects.filter(communication=OuterRef("pk"), rules_key=rules_key)
    return Communication.objects.filter(~Exists(fresh)).order_by("id")


def stale_complaints(rules_key: str):
    """Complaints whose handling has no analysis under these rules, or whose version or latest
    answered survey moved on since (a reopen, a resolution, an answered survey)."""
    fresh = (
        InteractionAnalysis.objects.filter(
            complaint=OuterRef("pk"), kind=InteractionKind.HANDLING, rules_key=rules_key
        )
        .filter(source_version=OuterRef("version"))
        .annotate(
            marker=Coalesce("survey_id", Value(0)),
            entry_marker=Coalesce("last_communication_id", Value(0)),
        )
        .filter(marker=OuterRef("survey_marker"), entry_marker=OuterRef("entry_marker"))
    )
    newest_entry = (
        Communication.objects.filter(complaint=OuterRef("pk")).order_by("-id").values("id")[:1]
    )
    return (
        Complaint.objects.annotate(
            latest_survey=Subquery(_latest_survey()), latest_entry=Subquery(newest_entry)
        )
        .annotate(
            survey_marker=Coalesce(F("latest_survey"), Value(0)),
            entry_marker=Coalesce(F("latest_entry"), Value(0)),
        )
        .filter(~Exists(fresh))
        .order_by("id")
    )


def _facts_for_communication(entry, friction) -> auto.Facts:
    compound, label = auto.sentiment(entry.summary)
    return auto.Facts(
        text=entry.summary,
        sentiment_compound=compound,
        sentiment=label,
        friction=auto.phrases_found(entry.summary, friction),
        first_response_in_sla=None,
        resolution_in_sla=None,
        is_reopened=None,
        csat=None,
        nps=None,
    )


def _in_sla(done_at, due_at, now) -> bool | None:
    if due_at is None:
        return None
    if done_at is not None:
        return done_at <= due_at
    return False if now > due_at else None


def _facts_for_handling(complaint, entries, survey, friction, now) -> auto.Facts:
    inbound = " ".join(e.summary for e in entries if e.direction == Communication.Direction.INBOUND)
    outbound = " ".join(
        e.summary for e in entries if e.direction == Communication.Direction.OUTBOUND
    )
    customer_text = " ".join(t for t in (inbound, survey.comment if survey else "") if t)
    compound, label = auto.sentiment(customer_text)
    return auto.Facts(
        text=outbound,
        sentiment_compound=compound,
        sentiment=label,
        friction=auto.phrases_found(customer_text, friction),
        first_response_in_sla=_in_sla(complaint.acknowledged_at, complaint.first_response_due, now),
        resolution_in_sla=_in_sla(complaint.resolved_at, complaint.resolution_due, now),
        is_reopened=complaint.was_reopened,
        csat=survey.csat if survey else None,
        nps=survey.nps if survey else None,
    )


def interactions_evaluate_batch(*, batch_size: int = DEFAULT_BATCH, now=None) -> dict:
    """Analyse up to `batch_size` stale communications and `batch_size` stale complaint
    handlings; returns the counts. A fixed number of queries per batch."""
    now = now or timezone.now()
    by_kind, friction, key = current_rules()
    actor = system_user()
    with transaction.atomic():
        # One batch at a time across workers: a second run waits here and then reads what the
        # first committed, so it never re-analyses an interaction in flight (FOR UPDATE SKIP
        # LOCKED alone leaves a window between a row's unlock and the NOT EXISTS it was read by).
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))",
                    ["service_quality.interactions_evaluate"],
                )
        entries = list(
            stale_communications(key)
            .select_related("complaint")
            .select_for_update(skip_locked=True, of=("self",))[:batch_size]
        )
        analyses = []
        facts_by_key = {}
        for entry in entries:
            facts = _facts_for_communication(entry, friction)
            analysis_key = f"c:{entry.pk}"
            facts_by_key[analysis_key] = facts
            analyses.append(
                _analysis(
                    analysis_key,
                    InteractionKind.COMMUNICATION,
                    complaint_id=entry.complaint_id,
                    communication_id=entry.pk,
                    subject_id=entry.author_id,
                    rules=key,
                    source_version=0,
                    survey_id=None,
                    last_communication_id=None,
                    facts=facts,
                    now=now,
                    inputs={"communication": entry.pk, "complaint": entry.complaint_id},
                )
            )
        reopened = _reopen_exists()
        complaints = list(
            stale_complaints(key)
            .annotate(was_reopened=reopened)
            .select_for_update(skip_locked=True, of=("self",))[:batch_size]
        )
        if complaints:
            ids = [c.pk for c in complaints]
            entries_by_complaint = defaultdict(list)
            for entry in Communication.objects.filter(complaint_id__in=ids).order_by("at", "id"):
                entries_by_complaint[entry.complaint_id].append(entry)
            surveys = {c.pk: None for c in complaints}
            survey_rows = Survey.objects.filter(
                pk__in=[c.latest_survey for c in complaints if c.latest_survey]
            )
            by_id = {s.pk: s for s in survey_rows}
            for complaint in complaints:
                surveys[complaint.pk] = by_id.get(complaint.latest_survey)
                complaint_entries = entries_by_complaint[complaint.pk]
                facts = _facts_for_handling(
                    complaint, complaint_entries, surveys[complaint.pk], friction, now
                )
                analysis_key = f"h:{complaint.pk}"
                facts_by_key[analysis_key] = facts
                analyses.append(
                    _analysis(
                        analysis_key,
                        InteractionKind.HANDLING,
                        complaint_id=complaint.pk,
                        communication_id=None,
                        subject_id=complaint.assignee_id,
                        rules=key,
                        source_version=complaint.version,
                        survey_id=complaint.latest_survey,
                        last_communication_id=complaint.latest_entry,
                        facts=facts,
                        now=now,
                        inputs={
                            "complaint": complaint.pk,
                            "complaint_version": complaint.version,
                            "communications": [e.pk for e in complaint_entries],
                            "survey": complaint.latest_survey,
                        },
                    )
                )
        if not analyses:
            return {"communications": 0, "handlings": 0, "auto_scores": 0}
        saved = InteractionAnalysis.objects.bulk_create(
            analyses,
            update_conflicts=True,
            unique_fields=["interaction_key"],
            update_fields=[
                "subject",
                "rules_key",
                "source_version",
                "survey_id",
                "last_communication_id",
                "method_version",
                "inputs",
                "sentiment_compound",
                "sentiment",
                "friction_phrases",
                "first_response_in_sla",
                "resolution_in_sla",
                "is_reopened",
                "csat",
                "nps",
                "analysed_at",
            ],
        )
        written = _write_auto_scores(saved, facts_by_key, by_kind, actor=actor, now=now)
    return {"communications": len(entries), "handlings": len(complaints), "auto_scores": written}


def _reopen_exists():
    from django.contrib.contenttypes.models import ContentType

    from qms.models import Transition

    return Exists(
        Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(Complaint),
            object_id=OuterRef("pk"),
            action="reopen",
        )
    )


def _analysis(
    key,
    kind,
    *,
    complaint_id,
    communication_id,
    subject_id,
    rules,
    source_version,
    survey_id,
    last_communication_id,
    facts,
    now,
    inputs,
):
    return InteractionAnalysis(
        interaction_key=key,
        kind=kind,
        complaint_id=complaint_id,
        communication_id=communication_id,
        subject_id=subject_id,
        rules_key=rules,
        source_version=source_version,
        survey_id=survey_id,
        last_communication_id=last_communication_id,
        method_version=auto.method_version(),
        inputs=inputs,
        sentiment_compound=Decimal(str(round(facts.sentiment_compound, 4))),
        sentiment=facts.sentiment,
        friction_phrases=facts.friction,
        first_response_in_sla=facts.first_response_in_sla,
        resolution_in_sla=facts.resolution_in_sla,
        is_reopened=facts.is_reopened,
        csat=facts.csat,
        nps=facts.nps,
        analysed_at=now,
    )


def _write_auto_scores(analyses, facts_by_key, by_kind, *, actor, now) -> int:
    """One automatic score per analysis and automatic criterion of its kind: new ones created,
    suggestions whose answer changed updated; decided ones (confirmed / overridden) are kept."""
    existing = {
        (s.analysis_id, s.criterion_id): s
        for s in AutoScore.objects.filter(analysis__in=[a.pk for a in analyses]).select_for_update()
    }
    to_create, to_update = [], []
    for analysis in analyses:
        facts = facts_by_key[analysis.interaction_key]
        for criterion in by_kind.get(analysis.kind, ()):
            answer, evidence = auto.answer_for(
                criterion.auto_rule, criterion.scale, facts, phrases=criterion.phrases
            )
            inputs = {**analysis.inputs, "analysis": analysis.pk, "criterion": criterion.pk}
            current = existing.get((analysis.pk, criterion.pk))
            if current is None:
                row = AutoScore(
                    analysis=analysis,
                    criterion=criterion,
                    answer=answer,
                    method=criterion.auto_rule,
                    method_version=analysis.method_version,
                    inputs=inputs,
                    evidence=evidence[:300],
                    computed_at=now,
                )
                set_history(row, user=actor, reason="Automatic evaluation", action="auto_score")
                to_create.append(row)
            elif current.status == AutoScoreStatus.SUGGESTED and (
                current.answer,
                current.evidence,
            ) != (answer, evidence[:300]):
                current.answer, current.evidence, current.inputs = answer, evidence[:300], inputs
                current.method_version, current.computed_at = analysis.method_version, now
                set_history(
                    current,
                    user=actor,
                    reason="Automatic evaluation: inputs changed",
                    action="auto_score",
                )
                to_update.append(current)
    if to_create:
        AutoScore.objects.bulk_create(to_create)
        bulk_history(to_create, history_type="+")
    if to_update:
        AutoScore.objects.bulk_update(
            to_update, ["answer", "evidence", "inputs", "method_version", "computed_at"]
        )
        bulk_history(to_update)
    return len(to_create) + len(to_update)


def interactions_evaluate(
    *, batch_size: int = DEFAULT_BATCH, max_batches: int = 100, now=None
) -> dict:
    """Batches until nothing is stale (or max_batches): the Celery task's body."""
    totals = {"communications": 0, "handlings": 0, "auto_scores": 0, "batches": 0}
    for _ in range(max_batches):
        counts = interactions_evaluate_batch(batch_size=batch_size, now=now)
        totals["batches"] += 1
        for name in ("communications", "handlings", "auto_scores"):
            totals[name] += counts[name]
        if counts["communications"] < batch_size and counts["handlings"] < batch_size:
            break
    return totals
