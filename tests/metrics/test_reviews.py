"""Management review (ISO 9001 9.3): the input pack from live data, frozen when held; decisions
and actions tracked to completion and linked to CAPAs; PDF, CSV and XLSX exports."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from metrics import services
from metrics.models import ManagementReview, ReviewItem
from qms.errors import IllegalTransition, NotAllowed, ValidationFailed
from tests.metrics.conftest import at, days_ago, make_target

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(manager):
    return services.review_create(actor=manager, title="Q4 review", period_start=days_ago(60), period_end=days_ago(1),
                                  meeting_on=days_ago(-3), attendees="Maria, Sam")


def test_the_pack_is_live_until_held_then_frozen(review, manager, build, client_for):
    make_target("csat", target=90, threshold=80)
    complaint = build.complaint(received_at=at(days_ago(5)))
    build.survey(complaint, answered_at=at(days_ago(4)), csat=2, ces=5, nps=3)
    client = client_for(manager)
    page = client.get(review.get_absolute_url()).content.decode()
    assert "Live preview" in page and "Customer satisfaction and feedback" in page
    services.review_transition(review, "hold", actor=manager)
    review.refresh_from_db()
    pack = review.input_pack
    assert review.status == "held" and review.held_at
    assert pack["complaints"]["received"] == 1
    csat = next(k for k in pack["kpis"] if k["code"] == "csat")
    assert csat["value"] == 0.0 and csat["status"] == "breached"
    for key in ("previous_actions", "kpis", "customer_feedback", "complaints", "capa", "training", "documents_overdue_review", "alerts"):
        assert key in pack
    # Later data does not change the frozen pack.
    build.complaint(received_at=at(days_ago(3)))
    review.refresh_from_db()
    assert review.input_pack["complaints"]["received"] == 1
    assert "frozen when the meeting was held" in client.get(review.get_absolute_url()).content.decode()
    with pytest.raises(ValidationFailed):
        services.review_update(review, actor=manager, reason="x", version=review.version, period_start=days_ago(90))


def test_actions_are_tracked_to_completion_before_the_review_closes(review, manager, staff):
    from capa.models import Capa

    services.review_transition(review, "hold", actor=manager)
    decision = services.review_item_add(review=review, actor=manager, kind="decision", description="Keep the SLA targets.")
    assert decision.status == "done"
    action = services.review_item_add(review=review, actor=manager, kind="action", description="Add a night shift", owner=staff,
                                      due_date=days_ago(-30), category="resources")
    with pytest.raises(IllegalTransition):
        services.review_transition(review, "close", actor=manager)
    capa = Capa.objects.create(reference="CAPA-T-1", title="x", problem_statement="x", risk_level="low", owner=manager,
                               due_date=days_ago(-10), created_by=manager)
    services.review_item_link_capa(action, actor=staff, capa=capa, version=action.version)
    action.refresh_from_db()
    with pytest.raises(ValidationFailed):
        services.review_item_transition(action, "complete", actor=staff)  # says what was done
    services.review_item_transition(action, "complete", actor=staff, reason="Shift staffed from January.")
    action.refresh_from_db()
    assert action.status == "done" and action.completed_at and action.capa == capa
    services.review_transition(review, "close", actor=manager)
    review.refresh_from_db()
    assert review.status == "closed" and review.closed_at
    with pytest.raises(IllegalTransition):
        services.review_item_add(review=review, actor=manager, kind="decision", description="late")


def test_an_action_needs_an_owner_and_a_due_date(review, manager):
    with pytest.raises(ValidationFailed):
        services.review_item_add(review=review, actor=manager, kind="action", description="x")
    with pytest.raises(ValidationFailed):
        services.review_item_add(review=review, actor=manager, kind="bogus", description="x")
    assert not ReviewItem.objects.exists()


def test_earlier_review_actions_are_an_input_of_the_next_review(review, manager, staff):
    services.review_item_add(review=review, actor=manager, kind="action", description="Retrain the night shift",
                             owner=staff, due_date=days_ago(-30))
    later = services.review_create(actor=manager, title="Q1 review", period_start=days_ago(1), period_end=days_ago(0),
                                   meeting_on=days_ago(-90))
    from metrics.selectors import review_input_pack

    previous = review_input_pack(later)["previous_actions"]
    assert [a["description"] for a in previous] == ["Retrain the night shift"]
    assert previous[0]["status"] == "open"


def test_review_pages_and_forms(client_for, manager, staff, auditor):
    client = client_for(manager)
    response = client.post(reverse("metrics:review-create"), {"title": "Annual review", "period_start": "2026-01-01",
                                                              "period_end": "2026-10-31", "meeting_on": "2026-11-30"})
    review = ManagementReview.objects.get()
    assert response.status_code == 302 and review.reference.startswith(f"MR-{timezone.localdate().year}-")  # the year it was opened
    assert client.post(reverse("metrics:review-create"), {"title": "x", "period_start": "2026-05-01", "period_end": "2026-01-01",
                                                          "meeting_on": "2026-11-30"}).status_code == 400
    response = client.post(reverse("metrics:review-item-add", args=[review.pk]), {"kind": "action", "category": "improvement",
                                                                               "description": "Do it", "owner": staff.pk,
                                                                               "due_date": "2026-12-31"})
    assert response.status_code == 302
    assert client.post(reverse("metrics:review-item-add", args=[review.pk]), {"kind": "action", "category": "improvement",
                                                                          "description": "No owner"}).status_code == 400
    from capa.models import Capa

    item = ReviewItem.objects.get()
    capa = Capa.objects.create(reference="CAPA-T-9", title="Detractors", problem_statement="x", risk_level="low", owner=manager,
                               due_date=datetime.date(2027, 1, 1), created_by=manager)
    assert capa.reference in client.get(review.get_absolute_url()).content.decode()  # offered in the link menu
    client.post(reverse("metrics:review-item-capa", args=[item.pk]), {"capa": capa.pk, "version": item.version})
    item.refresh_from_db()
    assert item.capa == capa
    client.post(reverse("metrics:review-item-capa", args=[item.pk]), {"capa": "99999", "version": item.version})
    item.refresh_from_db()
    assert item.capa == capa  # an unknown CAPA changes nothing
    response = client.post(reverse("metrics:review-transition", args=[review.pk]), {"action": "hold", "reason": "Meeting held"})
    review.refresh_from_db()
    assert review.status == "held"
    response = client.post(reverse("metrics:review-edit", args=[review.pk]), {"attendees": "All", "summary": "Good year.",
                                                                           "reason": "Minutes", "version": review.version})
    assert response.status_code == 302
    assert client_for(auditor).get(review.get_absolute_url()).status_code == 200
    assert client_for(auditor).post(reverse("metrics:review-edit", args=[review.pk]), {"reason": "x", "version": 1}).status_code == 403
    assert client_for(staff).post(reverse("metrics:review-create"), {"title": "x"}).status_code == 403
    with pytest.raises(NotAllowed):
        services.review_create(actor=staff, title="x", period_start=datetime.date(2026, 1, 1), period_end=datetime.date(2026, 2, 1),
                               meeting_on=datetime.date(2026, 3, 1))


def test_exports_pdf_csv_xlsx(client_for, auditor, review, manager, staff):
    services.review_item_add(review=review, actor=manager, kind="action", description="=HYPERLINK(\"x\")", owner=staff,
                             due_date=days_ago(-30))
    client = client_for(auditor)
    pdf = client.get(reverse("metrics:review-export-pdf", args=[review.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert review.reference in text and "Quality objectives and KPIs" in text
    csv = client.get(reverse("metrics:review-export-csv", args=[review.pk]))
    body = csv.content.decode("utf-8-sig")
    assert csv["Content-Disposition"].endswith(f'{review.reference}.csv"') and "CSAT" in body
    assert "'=HYPERLINK" in body  # formula injection neutralised
    xlsx = client.get(reverse("metrics:review-export-xlsx", args=[review.pk]))
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert review.reference in values and "Decisions and actions (9.3.3)" in values
    assert client.get(f"/metrics/reviews/{review.pk}/export.doc").status_code == 404


def test_the_review_page_lists_the_newest_capas_and_costs_the_same_with_many(review, manager, build, client_for, django_assert_max_num_queries):
    client = client_for(manager)
    oldest = build.capa(created_at=at(days_ago(400)), due_date=days_ago(-30))
    client.get(review.get_absolute_url())  # warm: session, content types
    # While the review is prepared its pack is computed live (about 15 of these queries; held,
    # it is frozen and the page takes 12); the count must not grow with the CAPAs.
    with django_assert_max_num_queries(27) as few:
        page = client.get(review.get_absolute_url())
    assert f'value="{oldest.pk}"' in page.content.decode()
    for i in range(205):
        build.capa(created_at=at(days_ago(300 - i)), due_date=days_ago(-30))
    with django_assert_max_num_queries(27) as many:
        html = client.get(review.get_absolute_url()).content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    item_form = html[html.index('id="id_capa"') :]
    item_form = item_form[: item_form.index("</select>")]
    assert item_form.count("<option") == 201  # "No CAPA" and the 200 newest
    assert f'value="{oldest.pk}"' not in item_form
    # An older CAPA can still be linked when posted (e.g. from the CAPA's own page).
    response = client.post(reverse("metrics:review-item-add", args=[review.pk]), {
        "kind": "decision", "category": "improvement", "description": "Keep the seal study open.", "capa": oldest.pk,
    })
    assert response.status_code == 302
    assert review.items.get(description="Keep the seal study open.").capa == oldest
