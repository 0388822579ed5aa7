"""Who must act next on a document version (qms.handoffs, issue 18 item 3). The reviewers and
approvers are told when the version is submitted (documents.services); this says it on the page."""

from documents.models import SignoffKind, VersionStatus
from qms.handoffs import Handoff, register


@register("documents.documentversion")
def version_waiting_for(version, known: dict) -> Handoff | None:
    if version.status == VersionStatus.DRAFT:
        return Handoff(what="finish the draft and submit it for review", people=[version.author])
    if version.status != VersionStatus.IN_REVIEW:
        return None
    signoffs = known.get("signoffs")
    if signoffs is None:  # the page did not load them (a reader without the review panel)
        signoffs = list(version.signoffs.select_related("user").filter(round=version.review_round))
    pending = [s for s in signoffs if s.round == version.review_round and s.completed_at is None]
    reviewers = [s.user for s in pending if s.kind == SignoffKind.REVIEW]
    approvers = [s.user for s in pending if s.kind == SignoffKind.APPROVAL]
    if reviewers:
        return Handoff(what="review this revision", people=reviewers)
    if approvers:
        return Handoff(what="approve this revision (signature)", people=approvers)
    return None
