"""Demo data of service quality (idempotent): an evaluator, two scorecards in force, a month
of customer e-mails on the demo complaints evaluated automatically and some by people, a
sampling rule with its draw."""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from qms import roles as qms_roles
from qms.demo import DEMO_PASSWORD
from qms.history import set_history
from qms.services import system_user

EMAIL_CARD = "Customer e-mail and phone"
HANDLING_CARD = "Complaint handling"

REPLIES = [
    "Thank you for your patience. Your reference is {ref}; our privacy notice is attached. The replacement ships today.",
    "Sorry for the trouble. We are investigating {ref} and will call you on Friday.",
    "Hello, we received your message about {ref}.",
    "Thank you, the engineer confirmed the fix. Your reference {ref} is resolved; our privacy notice applies.",
    "We apologise for the delay on {ref}; the part is on its way and we will confirm delivery tomorrow.",
]
CUSTOMER = [
    "I am still waiting for the replacement, this is the third time I write.",
    "Thanks, the loan unit arrived and works well.",
    "Nobody called me back yesterday, unacceptable.",
    "Great, that solved it. Thank you!",
    "Can you confirm the delivery date?",
]


def _evaluator(log):
    User = get_user_model()
    user = User.objects.filter(username="evaluator").first()
    if user is None:
        manager = User.objects.filter(username="manager").first()
        user = User(
            username="evaluator",
            first_name="Erin",
            last_name="Evans",
            email="evaluator@example.com",
            job_function="Service quality evaluator",
            manager=manager,
        )
        user.set_password(DEMO_PASSWORD)
        set_history(user, user=system_user(), reason="Demo data", action="create")
        user.save()
        user.groups.add(Group.objects.get(name=qms_roles.STAFF))
        log("  created user evaluator (Quality Staff, evaluator job function)")
    return user


def _card(manager, name, applies_to, sections):
    from service_quality import services
    from service_quality.models import Scorecard

    existing = Scorecard.objects.filter(name=name).order_by("-revision").first()
    if existing is not None:
        return existing
    card = services.scorecard_create(
        actor=manager,
        name=name,
        applies_to=applies_to,
        pass_mark=80,
        description="Demo scorecard: what we expect in every customer contact.",
    )
    for title, criteria in sections:
        section = services.section_add(card, actor=manager, title=title)
        for criterion in criteria:
            services.criterion_add(card, actor=manager, section=section, **criterion)
    # Signed as the demo manager, with the demo password, like any approval.
    services.scorecard_transition(
        card, "approve", actor=manager, password=DEMO_PASSWORD, reason="Demo approval"
    )
    services.scorecard_transition(card, "put_in_force", actor=manager, reason="Demo")
    card.refresh_from_db()
    return card


def seed(log=print) -> None:
    from complaints.models import Communication, Complaint
    from service_quality import evaluator as auto_evaluator
    from service_quality import sampling, services
    from service_quality.models import Evaluation, SamplingRule

    User = get_user_model()
    users = {
        u.username: u for u in User.objects.filter(username__in=["manager", "staff", "staff2"])
    }
    if len(users) < 3:
        log("  demo users missing; run the qms seeder first")
        return
    manager, agents = users["manager"], [users["staff"], users["staff2"]]
    evaluator = _evaluator(log)
    import importlib

    from django.apps import apps

    importlib.import_module(
        "service_quality.migrations.0005_default_friction_phrases"
    ).seed_friction_phrases(apps, None)
    email = _card(
        manager,
        EMAIL_CARD,
        "communication",
        [
            (
                "Compliance",
                [
                    {
                        "label": "Complaint reference quoted",
                        "guidance": "The customer can quote it back.",
                        "is_critical": True,
                        "weight": 2,
                        "auto_rule": "required_phrase",
                        "phrases": ["reference", "ref "],
                    },
                    {
                        "label": "Privacy notice given",
                        "scale": "yes_no",
                        "weight": 1,
                        "auto_rule": "required_phrase",
                        "phrases": ["privacy notice"],
                    },
                ],
            ),
            (
                "Communication",
                [
                    {
                        "label": "Empathy and tone",
                        "scale": "one_to_five",
                        "weight": 3,
                        "guidance": "Acknowledges the impact on the customer.",
                    },
                    {"label": "Clear next step and date", "weight": 2},
                    {
                        "label": "No friction in the customer's words",
                        "weight": 1,
                        "auto_rule": "no_friction",
                    },
                ],
            ),
        ],
    )
    handling = _card(
        manager,
        HANDLING_CARD,
        "handling",
        [
            (
                "Timeliness",
                [
                    {
                        "label": "First response within the SLA",
                        "weight": 2,
                        "auto_rule": "first_response_sla",
                    },
                    {
                        "label": "Resolved within the SLA",
                        "weight": 2,
                        "auto_rule": "resolution_sla",
                    },
                ],
            ),
            (
                "Outcome",
                [
                    {
                        "label": "Not reopened",
                        "weight": 2,
                        "is_critical": True,
                        "auto_rule": "not_reopened",
                    },
                    {
                        "label": "Customer satisfaction",
                        "scale": "one_to_five",
                        "weight": 1,
                        "auto_rule": "survey",
                    },
                    {
                        "label": "Root cause explained to the customer",
                        "scale": "one_to_five",
                        "weight": 2,
                    },
                ],
            ),
        ],
    )
    now = timezone.now()
    complaints = list(Complaint.objects.order_by("id")[:8])
    chooser = random.Random(17)  # noqa: S311 - demo data
    if complaints and not Communication.objects.filter(summary__startswith="[demo-sq]").exists():
        entries = []
        for day in range(30, 0, -1):
            complaint = complaints[day % len(complaints)]
            agent = agents[day % 2]
            at = now - timedelta(days=day, hours=chooser.randint(0, 6))
            entries.append(
                Communication(
                    complaint=complaint,
                    at=at - timedelta(hours=2),
                    direction="inbound",
                    channel="email",
                    summary="[demo-sq] " + chooser.choice(CUSTOMER),
                    author=agent,
                )
            )
            entries.append(
                Communication(
                    complaint=complaint,
                    at=at,
                    direction="outbound",
                    channel="email",
                    summary="[demo-sq] " + chooser.choice(REPLIES).format(ref=complaint.reference),
                    author=agent,
                )
            )
        Communication.objects.bulk_create(entries)
        log(f"  {len(entries)} demo communications over the last month")
    auto_evaluator.interactions_evaluate()
    if not Evaluation.objects.exists():
        outbound = list(
            Communication.objects.filter(
                summary__startswith="[demo-sq]", direction="outbound"
            ).order_by("at")[:16]
        )
        suggestions_by_entry = {}
        from service_quality.models import AutoScore

        for row in AutoScore.objects.filter(
            analysis__communication__in=outbound, criterion__scorecard=email
        ):
            suggestions_by_entry.setdefault(row.analysis.communication_id, {})[row.criterion_id] = (
                row.answer
            )
        for index, entry in enumerate(outbound):
            who = evaluator if index % 3 else manager
            evaluation = services.evaluation_create(
                actor=who,
                scorecard=email,
                complaint=entry.complaint,
                communication=entry,
                evaluator=who,
            )
            answers = {}
            for criterion in email.criteria.all():
                auto = suggestions_by_entry.get(entry.pk, {}).get(criterion.pk)
                if auto:
                    answers[criterion.pk] = {"answer": auto}
                elif criterion.scale == "one_to_five":
                    answers[criterion.pk] = {"answer": str(chooser.choice([2, 3, 4, 4, 5]))}
                else:
                    answers[criterion.pk] = {"answer": chooser.choice(["yes", "yes", "no"])}
            services.evaluation_score(evaluation, actor=who, answers=answers)
            if index < 14:  # two left as drafts to do
                services.evaluation_transition(evaluation, "submit", actor=who)
                Evaluation.objects.filter(pk=evaluation.pk).update(
                    created_at=entry.at + timedelta(hours=20),
                    submitted_at=entry.at + timedelta(days=1),
                )
        log("  16 demo evaluations (14 submitted)")
    team = seed_team(log, lead=users["staff2"], manager=manager)
    seed_team_month(log, team=team, evaluator=evaluator, manager=manager, scorecard=email)
    seed_handling(log, evaluator=evaluator, scorecard=handling)
    seed_coaching(log, evaluator=evaluator, manager=manager)
    seed_follow_through(log, evaluator=evaluator, manager=manager)
    seed_calibration(log, evaluator=evaluator, manager=manager, scorecard=email)
    if not SamplingRule.objects.exists():
        sampling.sampling_rule_create(
            actor=manager,
            name="Weekly e-mail sample",
            scorecard_code=email.code,
            per_person_per_week=2,
        )
        sampling.sampling_rule_create(
            actor=manager,
            name="Targeted complaint handling",
            scorecard_code=handling.code,
            per_person_per_week=0,
        )
        log(f"  sampling rules; {sampling.samples_draw()} evaluation tasks drawn")


def seed_coaching(log, *, evaluator, manager):
    from service_quality import services
    from service_quality.models import CoachingRecord, Evaluation

    if CoachingRecord.objects.exists():
        return
    low = list(
        Evaluation.objects.filter(status="submitted", is_passed=False)
        .select_related("subject")
        .order_by("score_percent", "id")[:3]
    )
    today = timezone.localdate()
    for index, evaluation in enumerate(low):
        actor = (
            evaluation.evaluator if evaluation.evaluator_id != evaluation.subject_id else manager
        )
        record = services.coaching_create(
            evaluation,
            actor=actor,
            moment="The reply did not give the customer a date for the next step.",
            what_good_looks_like="Say what happens next and when: 'The engineer calls you on Friday before noon.'",
            agreed_action="Use the reply checklist on the next ten e-mails.",
            due_on=today + timedelta(days=7 + index),
        )
        if index == 0:
            services.coaching_transition(
                record,
                "acknowledge",
                actor=evaluation.subject,
                password=DEMO_PASSWORD,
                reason="Demo",
            )
    log(f"  {len(low)} coaching records (one acknowledged)")


def seed_calibration(log, *, evaluator, manager, scorecard):
    from complaints.models import Communication
    from service_quality import calibration
    from service_quality.models import CalibrationSession

    if CalibrationSession.objects.exists():
        return
    entries = list(
        Communication.objects.filter(
            summary__startswith="[demo-sq]", direction="outbound"
        ).order_by("-at")[:3]
    )
    if len(entries) < 3:
        return
    session = calibration.calibration_create(
        actor=manager,
        name="Calibration: e-mail replies",
        scorecard=scorecard,
        participants=[manager, evaluator],
        interactions=[(e.complaint, e) for e in entries],
    )
    criteria = list(scorecard.criteria.all())
    items = list(session.items.all())
    chooser = random.Random(5)  # noqa: S311 - demo data
    for person in (manager, evaluator):
        answers = {}
        for item in items:
            for c in criteria:
                answers[f"{item.pk}:{c.pk}"] = (
                    chooser.choice(["3", "4", "5"])
                    if c.scale == "one_to_five"
                    else chooser.choice(["yes", "yes", "no"])
                )
        calibration.calibration_score(session, actor=person, answers=answers)
    agreed = {
        f"{i.pk}:{c.pk}": ("4" if c.scale == "one_to_five" else "yes")
        for i in items
        for c in criteria
    }
    calibration.calibration_agree(session, actor=manager, answers=agreed)
    calibration.calibration_close(session, actor=manager)
    log("  a closed calibration session (3 interactions, 2 evaluators)")


# A customer-service team led by staff2 (Noah Quinn): a month of replies, evaluated week by week,
# so the dashboard shows people, a team and a trend; staff2 sees the team's figures.
TEAM = [
    ("rosa", "Rosa", "Lind", (62, 70, 78, 86)),  # coached, improving
    ("tom", "Tom", "Berg", (88, 84, 90, 86)),
    ("ines", "Ines", "Duarte", (74, 58, 66, 72)),
]


def seed_team(log, *, lead, manager) -> list:
    from qms.models import Department

    User = get_user_model()
    department = Department.objects.get_or_create(name="Customer Service")[0]
    team = []
    for username, first, last, _trend in TEAM:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                department=department,
                job_function="Customer service agent",
                manager=lead,
            )
            user.set_password(DEMO_PASSWORD)
            set_history(user, user=system_user(), reason="Demo data", action="create")
            user.save()
            user.groups.add(Group.objects.get(name=qms_roles.STAFF))
            log(
                f"  created user {username} (Quality Staff, customer service, led by {lead.username})"
            )
        team.append(user)
    return team


def _answers_for(scorecard, target: int, chooser) -> dict:
    """Answers whose score lands near `target`: criteria answered yes / 4-5 with a probability
    that follows the target; the critical ones fail now and then for the weakest weeks."""
    answers = {}
    for criterion in scorecard.criteria.all():
        good = chooser.random() * 100 < target
        if criterion.scale == "one_to_five":
            answers[criterion.pk] = {"answer": chooser.choice(["4", "5"] if good else ["2", "3"])}
        elif criterion.is_critical and target < 65 and chooser.random() < 0.4:
            answers[criterion.pk] = {"answer": "no"}
        else:
            answers[criterion.pk] = {"answer": "yes" if good or criterion.is_critical else "no"}
    return answers


def seed_team_month(log, *, team, evaluator, manager, scorecard) -> None:
    from complaints.models import Communication, Complaint
    from service_quality import evaluator as auto_evaluator
    from service_quality import services
    from service_quality.models import Evaluation

    if Evaluation.objects.filter(subject__in=team).exists():
        return
    complaints = list(Complaint.objects.order_by("id")[:12])
    if not complaints:
        return
    now = timezone.now()
    chooser = random.Random(29)  # noqa: S311 - demo data
    planned = []
    for index, (user, (_u, _f, _l, trend)) in enumerate(zip(team, TEAM, strict=True)):
        for week, target in enumerate(trend):
            for n in range(2):
                complaint = complaints[(index * 8 + week * 2 + n) % len(complaints)]
                at = now - timedelta(days=(3 - week) * 7 + 2 + n * 2, hours=chooser.randint(1, 6))
                entry = Communication.objects.create(
                    complaint=complaint,
                    at=at,
                    direction="outbound",
                    channel="email",
                    summary="[demo-sq] " + chooser.choice(REPLIES).format(ref=complaint.reference),
                    author=user,
                )
                planned.append((user, entry, target))
    auto_evaluator.interactions_evaluate()
    for position, (_user, entry, target) in enumerate(planned):
        who = evaluator if position % 4 else manager
        evaluation = services.evaluation_create(
            actor=who, scorecard=scorecard, complaint=entry.complaint, communication=entry
        )
        services.evaluation_score(
            evaluation, actor=who, answers=_answers_for(scorecard, target, chooser)
        )
        services.evaluation_transition(evaluation, "submit", actor=who)
        Evaluation.objects.filter(pk=evaluation.pk).update(
            created_at=entry.at + timedelta(hours=20), submitted_at=entry.at + timedelta(days=1)
        )
    log(f"  {len(planned)} replies of the customer-service team, evaluated over four weeks")


def seed_handling(log, *, evaluator, scorecard) -> None:
    """The handling of the complaints whose customers answered the survey, evaluated on the
    handling scorecard with its automatic suggestions (the dashboard's CSAT / NPS correlation)."""
    from complaints.models import Complaint
    from service_quality import services
    from service_quality.models import AutoScore, Evaluation

    if Evaluation.objects.filter(kind="handling").exists():
        return
    chooser = random.Random(41)  # noqa: S311 - demo data
    surveyed = (
        Complaint.objects.filter(surveys__answered_at__isnull=False, assignee__isnull=False)
        .exclude(assignee=evaluator)
        .distinct()
        .order_by("id")
    )
    made = 0
    for complaint in surveyed:
        evaluation = services.evaluation_create(
            actor=evaluator, scorecard=scorecard, complaint=complaint
        )
        auto = {
            row.criterion_id: row.answer
            for row in AutoScore.objects.filter(
                analysis__interaction_key=f"h:{complaint.pk}", criterion__scorecard=scorecard
            )
        }
        answers = {
            c.pk: {
                "answer": auto.get(c.pk)
                or (chooser.choice(["3", "4", "5"]) if c.scale == "one_to_five" else "yes")
            }
            for c in scorecard.criteria.all()
        }
        services.evaluation_score(evaluation, actor=evaluator, answers=answers)
        services.evaluation_transition(evaluation, "submit", actor=evaluator)
        made += 1
    if made:
        log(f"  {made} complaint handlings evaluated (their customers answered the survey)")


def seed_follow_through(log, *, evaluator, manager) -> None:
    """What happens after coaching: training asked for on a controlled document, a follow-up
    evaluation drawn for the evaluator, and a dispute waiting for the Quality Manager."""
    from complaints.models import Communication
    from documents.models import Document
    from service_quality import sampling, services
    from service_quality.models import CoachingRecord, Evaluation

    if CoachingRecord.objects.filter(training_assignment__isnull=False).exists():
        return
    rosa = get_user_model().objects.filter(username="rosa").first()
    low = (
        Evaluation.objects.filter(subject=rosa, status="submitted", evaluator=evaluator)
        .order_by("score_percent", "id")
        .first()
        if rosa
        else None
    )
    effective = Document.objects.filter(effective_version__isnull=False).order_by("number")
    document = (
        effective.filter(title__icontains="complaint handling").first()
        or effective.filter(number__startswith="SOP").first()
    )
    if low is not None:
        record = services.coaching_create(
            low,
            actor=evaluator,
            moment="The customer asked twice for a date; the reply gave none.",
            what_good_looks_like="Give the date and the time window in the first two lines.",
            agreed_action="Reread the complaint-handling procedure and use its reply checklist.",
            due_on=timezone.localdate(),
            follow_up_days=7,
            training_document=document,
        )
        services.coaching_transition(
            record, "acknowledge", actor=rosa, password=DEMO_PASSWORD, reason="Demo"
        )
        Communication.objects.create(
            complaint=low.complaint,
            at=timezone.now(),
            direction="outbound",
            channel="email",
            summary=f"[demo-sq] The engineer visits on Friday between 9 and 11; your reference is {low.complaint.reference}.",
            author=rosa,
        )
        from service_quality import evaluator as auto_evaluator

        auto_evaluator.interactions_evaluate()
        drawn = sampling.follow_ups_draw()
        log(
            f"  coaching with training on {document.number if document else 'no document'}; "
            f"{drawn} follow-up evaluation drawn"
        )
    # A handling evaluation (made now, not back-dated, so its history reads straight) disputed
    # by the person evaluated.
    disputed = (
        Evaluation.objects.filter(kind="handling", status="submitted", evaluator=evaluator)
        .select_related("subject")
        .order_by("score_percent", "id")
        .first()
    )
    if disputed is not None and not Evaluation.objects.filter(status="disputed").exists():
        services.evaluation_transition(
            disputed,
            "dispute",
            actor=disputed.subject,
            reason="The customer agreed the new delivery date by phone; the SLA clock was paused for it.",
        )
        log(
            f"  {disputed.reference} disputed by {disputed.subject.username}, waiting for a Quality Manager"
        )
