"""Service quality in real Chromium: an evaluator finds a sampled interaction on My work, opens
it from the tasks, sees the automatic suggestions, scores and submits it and records coaching
with training on a controlled document; the person coached finds the coaching on My work and
acknowledges it with an electronic signature; the page then says the coach acts next. The
dashboard fits a phone. Screenshots at desktop (1440) and phone (390) widths:
tests/e2e/artifacts/sq-*.png."""

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
    manager2 = make_user("manager2", qms_roles.MANAGER)
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
    from tests.training.conftest import make_document, release_version

    sop = make_document(manager, title="Writing to customers")
    release_version(sop.versions.get(), author=manager, approver=manager2)
    sop.refresh_from_db()

    for width, height, tag in ((1440, 900, "desktop"), (390, 844, "phone")):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        login(page, "evaluator", PASSWORD)
        if tag == "desktop":  # the task is on My work until it is done
            work = page.locator("section", has=page.locator("h2", has_text="Evaluations to do"))
            expect(work).to_contain_text(complaint.reference)
            screenshot(page, f"sq-mywork-evaluator-{tag}")
            work.get_by_role("link", name=complaint.reference).click()
            page.wait_for_load_state("networkidle")
        else:
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
            page.select_option("#id_training_document", str(sop.pk))
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
        if tag == "desktop":
            work = page.locator(
                "section", has=page.locator("h2", has_text="Coaching to acknowledge")
            )
            expect(work).to_contain_text(evaluation.reference)
            screenshot(page, f"sq-mywork-agent-{tag}")
            work.get_by_role("link", name=evaluation.reference).click()
            page.wait_for_load_state("networkidle")
            expect(page.locator(".waiting-for")).to_contain_text("Agent Tester")
        else:
            page.goto(f"{live_server.url}{record.get_absolute_url()}")
        if tag == "desktop":
            page.click("summary:has-text('Acknowledge')")
            panel = page.locator("details[open] .action-panel").last
            panel.locator("[name=password]").fill(PASSWORD)
            panel.locator("button[type=submit]").click()
            page.wait_for_load_state("networkidle")
            expect(page.locator(".page-head .sub")).to_contain_text("Acknowledged")
            expect(page.locator(".waiting-for")).to_contain_text(
                "Evaluator Tester — record the agreed action as done"
            )
        expect(page.locator("#follow-up")).to_contain_text("Follow-up evaluation")
        screenshot(page, f"sq-coaching-{tag}")
        page.goto(f"{live_server.url}/service-quality/")
        screenshot(page, f"sq-home-{tag}")
        context.close()

    record.refresh_from_db()
    assert record.status == "acknowledged"
    assert record.training_assignment.document_version == sop.effective_version
    assert Signature.objects.filter(
        content_type__model="coachingrecord", signer=agent, meaning="Coaching acknowledged"
    ).exists()


def test_the_dashboard_fits_a_desktop_and_a_phone(browser, live_server, login, screenshot):
    from qms import roles as qms_roles
    from service_quality import services

    manager = make_user("manager", qms_roles.MANAGER)
    evaluator = make_user("evaluator", qms_roles.STAFF, job_function="Evaluator")
    card = make_scorecard(manager=manager)
    for n in range(3):
        agent = make_user(f"agent{n}", qms_roles.STAFF)
        complaint = make_complaint(actor=agent, assignee=agent)
        entry = add_communication(complaint, author=agent, summary=f"Reply {n}")
        evaluation = services.evaluation_create(
            actor=evaluator, scorecard=card, complaint=complaint, communication=entry
        )
        services.evaluation_score(
            evaluation,
            actor=evaluator,
            answers={
                c.pk: {"answer": "4" if c.scale == "one_to_five" else ("no" if n == 0 else "yes")}
                for c in card.criteria.all()
            },
        )
        services.evaluation_transition(evaluation, "submit", actor=evaluator)
    for width, height, tag in ((1440, 900, "desktop"), (390, 844, "phone")):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        login(page, "manager", PASSWORD)
        page.goto(f"{live_server.url}/service-quality/dashboard/")
        expect(page.locator("h1")).to_have_text("Service quality dashboard")
        expect(page.locator("#per-person")).to_contain_text("Agent1 Tester")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate("!!window.qmsCharts && !!window.qmsCharts['chart-sq-score']")
        screenshot(page, f"sq-dashboard-{tag}")
        context.close()
