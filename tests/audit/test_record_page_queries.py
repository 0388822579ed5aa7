"""A record's audit page and its dossier PDF cost a fixed number of queries whatever the length
of the record's history, the number of people in it or of its signatures (docs/architecture.md
rule 6; issue 9: at most 12 a page)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import PASSWORD
from tests.kernel_app.models import Specimen
from tests.kernel_app.services import specimen_create, specimen_transition, specimen_update

BUDGET = 12


def grow(specimen, *, people, rounds):
    """`rounds` edits by each of `people` (each a history entry naming its user), then a
    second review round with another electronic signature."""
    for round_ in range(rounds):
        for person in people:
            specimen = Specimen.objects.get(pk=specimen.pk)
            specimen = specimen_update(
                specimen,
                actor=person,
                version=specimen.version,
                reason=f"Round {round_}",
                summary=f"Edited by {person.username} in round {round_}",
            )
    return Specimen.objects.get(pk=specimen.pk)


def count(client, url):
    client.get(url)  # warm the content-type cache, as a running server has it
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), "\n".join(q["sql"][:200] for q in queries.captured_queries if q["sql"])


@pytest.mark.parametrize("page", ["record", "dossier"])
def test_record_page_and_dossier_cost_the_same_with_a_longer_history(
    staff, manager, auditor, client_for, page
):
    client = client_for(auditor)
    small_record = specimen_create(actor=staff, title="Small", summary="First draft.")
    specimen_transition(small_record, "submit", actor=staff)
    specimen_transition(
        small_record, "approve", actor=manager, password=PASSWORD, meaning="Approved"
    )

    big_record = specimen_create(actor=staff, title="Big", summary="First draft.")
    big_record = grow(big_record, people=[staff, manager], rounds=6)
    specimen_transition(big_record, "submit", actor=staff)
    specimen_transition(big_record, "approve", actor=manager, password=PASSWORD, meaning="Approved")

    def url(record):
        base = f"/audit/records/kernel_app.specimen/{record.pk}/"
        return base + "dossier.pdf" if page == "dossier" else base

    small, small_sql = count(client, url(small_record))
    large, large_sql = count(client, url(big_record))
    assert large == small, small_sql + "\n---\n" + large_sql
    assert large <= BUDGET, large_sql


def test_record_page_of_a_record_with_foreign_keys_reads_them_together(
    staff, manager, auditor, client_for, django_assert_max_num_queries
):
    """A user record names a department and a manager; the page and the dossier show them
    without a query each."""
    from qms.history import set_history
    from qms.models import Department

    department = Department.objects.create(name="Assembly")
    staff.department = department
    staff.manager = manager
    set_history(staff, user=manager, reason="Moved to assembly")
    staff.save(update_fields=["department", "manager"])
    client = client_for(auditor)
    url = f"/audit/records/qms.user/{staff.pk}/"
    client.get(url)
    with django_assert_max_num_queries(BUDGET):
        response = client.get(url)
    page = response.content.decode()
    assert "Assembly" in page and manager.full_name in page
    with django_assert_max_num_queries(BUDGET):
        assert client.get(url + "dossier.pdf").status_code == 200
