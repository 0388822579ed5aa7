"""GET /api/v1/capas/<id>/history/: each entry lists what changed in it, the linked complaints
compared as sets of ids (not the history rows' hash columns), at a cost that does not grow with
the number of entries."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from capa import services
from tests.capa.conftest import make_complaint


def history(api, capa):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/v1/capas/{capa.pk}/history/")
    assert response.status_code == 200
    return response.json(), len(queries)


def test_linked_complaints_show_as_a_change_only_where_they_changed(api_for, staff):
    first = make_complaint(actor=staff, title="Seal leaks")
    second = make_complaint(actor=staff, title="Seal leaks again")
    capa = services.capa_create_from_complaint(complaint=first, actor=staff)
    api = api_for(staff)
    entries, small_cost = history(api, capa)
    assert len(entries) >= 1

    for index in range(6):
        capa.refresh_from_db()
        services.capa_update(
            capa,
            actor=staff,
            reason=f"Wording {index}",
            version=capa.version,
            title=f"Pump seals leak ({index})",
        )
    capa.refresh_from_db()
    services.capa_update(
        capa,
        actor=staff,
        reason="Same root cause",
        version=capa.version,
        complaints=[first, second],
    )

    entries, large_cost = history(api, capa)
    assert large_cost == small_cost, (small_cost, large_cost)
    linked = [
        entry
        for entry in entries
        if any(change["field"] == "complaints" for change in entry["changes"])
    ]
    # Creation (the first link) and the re-link; nothing else claims a change of the links.
    assert [entry["reason"] for entry in linked][0] == "Same root cause"
    relink = next(change for change in linked[0]["changes"] if change["field"] == "complaints")
    assert {key: relink[key] for key in ("field", "old", "new")} == {
        "field": "complaints",
        "old": [first.pk],
        "new": sorted([first.pk, second.pk]),
    }
    assert relink["new_display"] == f"{first.reference}, {second.reference}"
    assert len(linked) <= 2, linked
    renames = [entry for entry in entries if entry["reason"].startswith("Wording")]
    assert len(renames) == 6
    assert all(
        [change["field"] for change in entry["changes"]] == ["title"] for entry in renames
    ), renames
