"""Races through the API (issue 20): many requests at once on one record, each thread with its
own database connection, all released together by a barrier. Exactly one wins per record: one
transition, one history row, one signature (and one survey) for a signed close; one edit per
round, the others answered 409 (never 5xx, never a second row)."""

import time

import pytest
from django.contrib.contenttypes.models import ContentType
from rest_framework.test import APIClient

from complaints import services
from complaints.models import Complaint, Customer, Survey
from qms.models import Signature, Transition
from qms.roles import MANAGER, STAFF
from tests.complaints.conftest import advance, ensure_policies
from tests.conftest import PASSWORD, make_user
from tests.qms.test_concurrency import run_in_threads
from tests.reliability.conftest import report, sized

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


@pytest.fixture
def world(db):
    ensure_policies()
    customer = Customer.objects.create(
        name="Jane Roe", organisation="St Mary's", email="jane@example.org"
    )
    return {
        "staff": make_user("race-staff", STAFF),
        "manager": make_user("race-manager", MANAGER),
        "customer": customer,
    }


def new_complaint(world, index):
    return services.complaint_create(
        actor=world["staff"],
        title=f"Race {index}",
        description="Alarm silent.",
        customer=world["customer"],
    )


def post_all(user, url, body, count=THREADS):
    def post(index):
        client = APIClient()
        client.force_authenticate(user)
        payload = {
            key: (value.format(i=index) if isinstance(value, str) else value)
            for key, value in body.items()
        }
        return client.post(url, payload, format="json").status_code

    started = time.monotonic()
    results = run_in_threads(count, post)
    assert all(kind == "ok" for kind, _ in results), results
    return sorted(code for _, code in results), time.monotonic() - started


def one_of_each(complaint, action):
    ct = ContentType.objects.get_for_model(Complaint)
    return (
        Transition.objects.filter(content_type=ct, object_id=complaint.pk, action=action).count(),
        complaint.history.filter(history_action=action).count(),
    )


def test_parallel_acknowledge_one_success_per_complaint(world):
    complaints = [new_complaint(world, i) for i in range(sized(4, 200))]
    durations, losers = [], 0
    for complaint in complaints:
        codes, took = post_all(
            world["staff"],
            f"/api/v1/complaints/{complaint.pk}/transitions/",
            {"action": "acknowledge", "reason": "call back {i}"},
        )
        durations.append(took)
        assert codes.count(200) == 1 and set(codes) <= {200, 409}, codes
        losers += codes.count(409)
        complaint.refresh_from_db()
        assert (complaint.status, complaint.version) == ("acknowledged", 2)
        assert one_of_each(complaint, "acknowledge") == (1, 1)
    report(
        "race-acknowledge",
        complaints=len(complaints),
        requests=len(complaints) * THREADS,
        successes=len(complaints),
        conflicts_409=losers,
        server_errors=0,
        round_max_s=round(max(durations), 2),
        round_p50_s=round(sorted(durations)[len(durations) // 2], 2),
    )


def test_parallel_signed_close_one_signature_per_complaint(world):
    complaints = [new_complaint(world, i) for i in range(sized(2, 20))]
    for complaint in complaints:
        advance(complaint, "acknowledge", "investigate", "resolve", actor=world["staff"])
    ct = ContentType.objects.get_for_model(Complaint)
    durations = []
    for complaint in complaints:
        body = {
            "action": "close",
            "investigation_required": True,
            "is_reportable": False,
            "reportability_reason": "No harm {i}",
            "password": PASSWORD,
            "reason": "close {i}",
        }
        codes, took = post_all(
            world["manager"], f"/api/v1/complaints/{complaint.pk}/transitions/", body
        )
        durations.append(took)
        assert codes.count(200) == 1 and set(codes) <= {200, 409}, codes
        complaint.refresh_from_db()
        assert complaint.status == "closed"
        assert one_of_each(complaint, "close") == (1, 1)
        assert Signature.objects.filter(content_type=ct, object_id=complaint.pk).count() == 1
        assert Survey.objects.filter(complaint=complaint).count() == 1
    surveys = Survey.objects.filter(complaint__in=complaints).count()
    report(
        "race-signed-close",
        complaints=len(complaints),
        requests=len(complaints) * THREADS,
        successes=len(complaints),
        signatures=Signature.objects.filter(content_type=ct).count(),
        surveys=surveys,
        server_errors=0,
        round_max_s=round(max(durations), 2),
    )


def test_parallel_edits_of_one_complaint_one_winner_per_round(world):
    complaint = new_complaint(world, 0)
    rounds, writers = sized(3, 10), sized(THREADS, 50)
    url = f"/api/v1/complaints/{complaint.pk}/"
    user = world["staff"]
    durations = []
    for round_no in range(rounds):
        complaint.refresh_from_db()
        version = complaint.version

        def patch(index, version=version, round_no=round_no):
            client = APIClient()
            client.force_authenticate(user)
            body = {
                "title": f"Round {round_no} writer {index}",
                "version": version,
                "reason": f"writer {index}",
            }
            return client.patch(url, body, format="json").status_code

        started = time.monotonic()
        results = run_in_threads(writers, patch)
        durations.append(time.monotonic() - started)
        assert all(kind == "ok" for kind, _ in results), results
        codes = sorted(code for _, code in results)
        assert codes.count(200) == 1 and set(codes) <= {200, 409}, codes
        complaint.refresh_from_db()
        assert complaint.version == version + 1
    assert complaint.history.filter(history_type="~").count() == rounds
    report(
        "race-edit",
        rounds=rounds,
        writers=writers,
        winners=rounds,
        conflicts_409=rounds * (writers - 1),
        server_errors=0,
        round_max_s=round(max(durations), 2),
    )
