"""Root cause analysis: 5 Whys and fishbone."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from capa.models import (
    Capa,
    FishboneCategory,
    RootCauseAnalysis,
    RootCauseMethod,
)
from capa.services.common import (
    MAX_CAUSES_PER_CATEGORY,
    MAX_SHORT,
    MAX_WHYS,
    _require_writer,
    _text,
)
from capa.workflow import (
    ANALYSIS_STATES,
)
from qms.errors import IllegalTransition, ValidationFailed
from qms.versioning import check_version, save_versioned

# --- root cause analysis ---------------------------------------------------------------------


def _clean_whys(whys) -> list[dict]:
    if not isinstance(whys, list):
        raise ValidationFailed.on("whys", "Send the 5 Whys as a list of {why, because}.")
    cleaned = []
    for index, item in enumerate(whys, start=1):
        if not isinstance(item, dict):
            raise ValidationFailed.on("whys", f"Why {index}: send an object with 'why' and 'because'.")
        why = _text(item.get("why"), "whys", max_length=MAX_SHORT)
        because = _text(item.get("because"), "whys", max_length=MAX_SHORT)
        if not why and not because:
            continue
        if not why or not because:
            raise ValidationFailed.on("whys", f"Why {index}: give both the question and its answer.")
        cleaned.append({"why": why, "because": because})
    if len(cleaned) > MAX_WHYS:
        raise ValidationFailed.on("whys", f"At most {MAX_WHYS} whys.")
    return cleaned


def _clean_fishbone(fishbone) -> dict:
    if not isinstance(fishbone, dict):
        raise ValidationFailed.on("fishbone", "Send the fishbone as an object of category: [causes].")
    valid = set(FishboneCategory.values)
    unknown = set(fishbone) - valid
    if unknown:
        raise ValidationFailed.on("fishbone", f"Unknown categories: {', '.join(sorted(map(str, unknown)))}; use {', '.join(FishboneCategory.values)}.")
    cleaned = {}
    for category in FishboneCategory.values:
        causes = fishbone.get(category, [])
        if not isinstance(causes, list):
            raise ValidationFailed.on("fishbone", f"{category}: send a list of causes.")
        items = [_text(cause, "fishbone", max_length=200) for cause in causes]
        items = [item for item in items if item]
        if len(items) > MAX_CAUSES_PER_CATEGORY:
            raise ValidationFailed.on("fishbone", f"{category}: at most {MAX_CAUSES_PER_CATEGORY} causes.")
        if items:
            cleaned[category] = items
    return cleaned


@transaction.atomic
def root_cause_save(
    capa: Capa, *, actor, whys, fishbone, conclusion: str, method: str = RootCauseMethod.BOTH, version=None, reason: str = ""
) -> RootCauseAnalysis:
    _require_writer(actor)
    locked_capa = Capa.objects.select_for_update().get(pk=capa.pk)
    if locked_capa.status not in ANALYSIS_STATES:
        raise IllegalTransition(
            f"The analysis can be changed while the CAPA is open, in investigation or in action planning; it is {locked_capa.get_status_display().lower()}."
        )
    if method not in RootCauseMethod.values:
        raise ValidationFailed.on("method", f"Choose one of {', '.join(RootCauseMethod.values)}.")
    analysis, created = RootCauseAnalysis.objects.select_for_update().get_or_create(capa=locked_capa)
    if version is not None:
        check_version(analysis, version)
    before = (analysis.method, analysis.whys, analysis.fishbone, analysis.conclusion)
    analysis.method = method
    analysis.whys = _clean_whys(whys)
    analysis.fishbone = _clean_fishbone(fishbone)
    analysis.conclusion = _text(conclusion, "conclusion")
    if not created and before == (analysis.method, analysis.whys, analysis.fishbone, analysis.conclusion):
        # Saved unchanged: nothing to record, and who analysed it when stays true (issue 15).
        return analysis
    analysis.analysed_by = actor
    analysis.analysed_at = timezone.now()
    save_versioned(
        analysis,
        actor=actor,
        reason=_text(reason, "reason", max_length=4000) or "Root cause analysis updated",
        fields=["method", "whys", "fishbone", "conclusion", "analysed_by", "analysed_at"],
        action="analyse",
    )
    return analysis
