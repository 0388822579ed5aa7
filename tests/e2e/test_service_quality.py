"""Service quality in real Chromium: an evaluator opens a sampled interaction from the tasks,
sees the automatic suggestions, scores and submits it and records coaching; the person coached
acknowledges it with an electronic signature. Screenshots at desktop (1440) and phone (390)
widths: tests/e2e/artifacts/sq-*.png."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from qms.models import Signature
from service_quality import evaluator as auto_evaluator
from service_quality import sampling
from service_quality.models import CoachingRecord, Evaluation, EvaluationTask
from tests.conftest import PASSWORD, make_user
from tests.service_quality.conftest import add_communication, make_complaint, make_scorecard

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CRITERIA = [
    {
        "section": "Compliance",
        "label": "Reference quoted",
        "scale": "yes_no",
        "weight": 2,
        "is_critical": True,
        "auto_rule": "required_phrase",
        "phrases": ["CMP-"],
    },
    {"section": "Communication", "label": "Empathy", "scale": "one_to_five", "weight": 3},
    {
        "section": "Communication",
        "label": "No friction",
        "scale": "yes_no",
        "weight": 1,
        "auto_rule": "no_friction",
    },
]


def test_evaluator_scores_a_sampled_interaction_and_the_person_acknowledges_coaching(
    browser, live_server, login, screenshot
):
    from qms import roles as qms_roles

    manager = make_user("manager", qms_roles.MANAGER)
    evaluator = make_user("evaluator", qms_roles.STAFF, job_function="Evaluator")
    agent = make_user("agent", qms_roles.STAFF, manager=manager)
    card = make_scorecard(manager=manager, criteria=CRITERIA)
    complaint = make_complaint(actor=agent, assignee=agent)
    add_communication(
        complaint,
        author=agent,
        summary=f"Sorry for the wait. Your reference is {complaint.reference}; the engineer comes on Friday.",
        at=timezone.now() - timedelta(hours=1),
    )
    auto_evaluator.interactions_evaluate()
    sampling.sampling_rule_create(
        actor=manager, name="Weekly e-mail sample", scorecard_code=card.code, per_person_per_week=1
    )
    sampling.samples_draw()
    task = EvaluationTask.objects.get()
    EvaluationTask.objects.filter(pk=task.pk).update(evaluator=evaluator)

    for width, height, tag in ((1440, 900, "desktop"), (390, 844, "phone")):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        login(page, "evaluator", PASSWORD)
        page.goto(f"{live_server.url}/service-quality/tasks/")
        expect(page.locator("h1")).to_have_text("Evaluation tasks")
        screenshot(page, f"sq-tasks-{tag}")
        if tag == "desktop":
            page.click("button:has-text('Evaluate')")
            page.wait_for_load_state("networkidle")
            expect(page.locator("#scores")).to_contain_text("suggested")
            empathy = card.criteria.get(label="Empathy")
            page.select_option(f"#id_answer_{empathy.pk}", "4")
            page.click("button:has-text('Save answers')")
            page.wait_for_load_state("networkidle")
            page.click("summary:has-text('Submit')")
            page.locator("details[open] .action-panel button[type=submit]").click()
            page.wait_for_load_state("networkidle")
            expect(page.locator(".page-head .sub")).to_contain_text("Submitted")
            page.fill("#id_moment", "The reply quoted the reference but gave no time for Friday.")
            page.fill(
                "#id_what_good_looks_like", "'The engineer comes on Friday between 9 and 11.'"
            )
            page.fill("#id_agreed_action", "Give a time window with every visit date.")
            page.fill("#id_due_on", (timezone.localdate() + timedelta(days=7)).isoformat())
            page.click("button:has-text('Record coaching')")
            page.wait_for_load_state("networkidle")
        evaluation = Evaluation.objects.get()
        page.goto(f"{live_server.url}{evaluation.get_absolute_url()}")
        screenshot(page, f"sq-evaluation-{tag}")
        context.close()

    evaluation = Evaluation.objects.get()
    assert evaluation.status == "submitted" and evaluation.score_percent is not None
    record = CoachingRecord.objects.get()

    for width, height, tag in ((1440, 900, "desktop"), (390, 844, "phone")):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        login(page, "agent", PASSWORD)
        page.goto(f"{live_server.url}{record.get_absolute_url()}")
        if tag == "desktop":
            page.click("summary:has-text('Acknowledge')")
            panel = page.locator("details[open] .action-panel").last
            panel.locator("[name=password]").fill(PASSWORD)
            panel.locator("button[type=submit]").click()
            page.wait_for_load_state("networkidle")
            expect(page.locator(".page-head .sub")).to_contain_text("Acknowledged")
        screenshot(page, f"sq-coaching-{tag}")
        page.goto(f"{live_server.url}/service-quality/")
        screenshot(page, f"sq-home-{tag}")
        context.close()

    record.refresh_from_db()
    assert record.status == "acknowledged"
    assert Signature.objects.filter(
        content_type__model="coachingrecord", signer=agent, meaning="Coaching acknowledged"
    ).exists()
