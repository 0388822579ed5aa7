"""Races between real database connections (one per thread, transactional_db): the row lock of
transition() and the counter-row lock of allocate_reference() (issue 2 item 6)."""

import threading
import time

import pytest
from django.db import connection, transaction

from qms.errors import IllegalTransition
from qms.models import Transition
from qms.references import allocate_reference
from tests.kernel_app.models import Specimen
from tests.kernel_app.services import specimen_create, specimen_transition

pytestmark = pytest.mark.django_db(transaction=True)


def run_in_threads(count, target):
    """Run target(index) in `count` threads that start together; each has its own connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def work(index):
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", target(index))
        except Exception as exc:  # collected and asserted by the test
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return results


def test_two_concurrent_transitions_of_one_record_exactly_one_wins(staff):
    specimen = specimen_create(actor=staff, title="Race", summary="ready")

    def submit(index):
        # Each thread loads its own copy, as two browser requests would; the guard sleeps so
        # that both are inside transition() at the same time.
        mine = Specimen.objects.get(pk=specimen.pk)
        return specimen_transition(mine, "submit", actor=staff, reason=f"thread {index}", data={"slow": "0.3"})

    results = run_in_threads(2, submit)
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    (error,) = [value for kind, value in results if kind == "error"]
    assert isinstance(error, IllegalTransition)
    assert "it is in review" in error.message

    fresh = Specimen.objects.get(pk=specimen.pk)
    assert (fresh.status, fresh.version) == ("in_review", 2)
    assert Transition.objects.filter(object_id=specimen.pk, action="submit").count() == 1
    assert fresh.history.filter(history_action="submit").count() == 1


def test_references_from_concurrent_creates_have_no_duplicate_and_no_gap(staff):
    count = 8

    def create(index):
        return specimen_create(actor=staff, title=f"Concurrent {index}").reference

    results = run_in_threads(count, create)
    assert all(kind == "ok" for kind, _ in results), results
    references = sorted(value for _, value in results)
    year = references[0].split("-")[1]
    assert references == [f"SPC-{year}-{n:05d}" for n in range(1, count + 1)]


def test_a_rolled_back_create_gives_its_number_back_while_others_wait(staff):
    holding = threading.Event()

    def create(index):
        if index == 0:
            # Takes number 1 and holds it while the others queue on the counter row, then
            # rolls back: the number must go to the next in line, not be skipped.
            try:
                with transaction.atomic():
                    reference = allocate_reference("SPC")
                    holding.set()
                    time.sleep(0.5)
                    raise RuntimeError(f"{reference} abandoned")
            except RuntimeError:
                return None
        holding.wait(timeout=10)
        return specimen_create(actor=staff, title=f"After rollback {index}").reference

    results = run_in_threads(4, create)
    assert all(kind == "ok" for kind, _ in results), results
    references = sorted(value for _, value in results if value)
    year = references[0].split("-")[1]
    assert references == [f"SPC-{year}-{n:05d}" for n in (1, 2, 3)]


def test_allocation_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        allocate_reference("SPC")


def test_reference_formats(db):
    with transaction.atomic():
        assert allocate_reference("SOP", width=3, per_year=False) == "SOP-001"
        assert allocate_reference("SOP", width=3, per_year=False) == "SOP-002"
        first = allocate_reference("CAPA", width=4)
        assert first.startswith("CAPA-") and first.endswith("-0001")
