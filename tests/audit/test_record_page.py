"""A record's own audit view and the reusable record-history snippet: readable diffs, its
signatures with whether the hash still matches, its workflow transitions."""

from qms.web import record_audit_context


def test_record_page_shows_readable_history_signatures_and_transitions(signed_specimen, auditor, client_for):
    response = client_for(auditor).get(f"/audit/records/kernel_app.specimen/{signed_specimen.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Clarified the summary" in page
    assert "First draft." in page and "Checked against the reference set." in page
    assert "In review" in page and "Approved" in page  # status choice labels
    assert "Manager Tester" in page
    assert "hash still matches" in page
    assert "in_review → approved" in page
    assert "Dossier PDF" in page


def test_record_audit_context_gives_readable_entries(signed_specimen, manager):
    context = record_audit_context(signed_specimen, manager)
    changed = next(e for e in context["history_entries"] if e.action == "changed")
    assert [(c.label, c.old_display, c.new_display) for c in changed.changes] == [("Summary", "First draft.", "Checked against the reference set.")]
    approve = next(e for e in context["history_entries"] if e.action == "approve")
    status = next(c for c in approve.changes if c.field == "status")
    assert (status.old_display, status.new_display) == ("In review", "Approved")
    (signature,) = context["signatures"]
    assert signature.hash_matches
    assert signature.matches_record_now is True
    assert [t.action for t in context["transitions"]] == ["submit", "approve"]


def test_the_shared_snippets_render_readable_diffs_and_signature_checks(signed_specimen, manager):
    from django.template.loader import render_to_string

    context = record_audit_context(signed_specimen, manager)
    history = render_to_string("qms/_history.html", context)
    assert "Clarified the summary" in history
    assert "Summary" in history and "First draft." in history
    assert "In review" in history and "Approved" in history
    signatures = render_to_string("qms/_signatures.html", context)
    assert "Manager Tester" in signatures and "hash still matches" in signatures
    assert "record unchanged since signing" in signatures


def test_a_signature_whose_record_changed_since_says_so(signed_specimen, staff, manager):
    from qms.history import set_history

    signed_specimen.title = "Changed after approval"
    set_history(signed_specimen, user=manager, reason="Typo")
    signed_specimen.save()
    (signature,) = record_audit_context(signed_specimen, manager)["signatures"]
    assert signature.hash_matches  # the signature itself is intact
    assert signature.matches_record_now is False


def test_record_page_is_for_audit_readers(signed_specimen, staff, client_for):
    assert client_for(staff).get(f"/audit/records/kernel_app.specimen/{signed_specimen.pk}/").status_code == 403
