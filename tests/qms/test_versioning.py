"""Optimistic locking (issue 2 item 6): an update names the version it read; a stale one is
refused with who saved in between and when, and changes nothing."""

import pytest

from qms.errors import StaleVersion
from tests.kernel_app.models import Specimen
from tests.kernel_app.services import specimen_update


def test_an_update_with_the_current_version_saves_and_bumps_it(specimen, staff):
    updated = specimen_update(specimen, actor=staff, version=1, reason="Typo", title="Torque wrench calibration v2")
    assert updated.version == 2
    entry = updated.history.order_by("-history_id").first()
    assert (entry.history_user, entry.history_change_reason, entry.title) == (staff, "Typo", updated.title)


def test_a_stale_update_names_who_changed_the_record_and_when(specimen, staff, manager):
    from django.contrib.auth.models import Group

    manager.groups.add(Group.objects.get(name="Quality Staff"))
    specimen_update(specimen, actor=manager, version=1, reason="First", title="Changed by the manager")
    with pytest.raises(StaleVersion) as stale:
        specimen_update(specimen, actor=staff, version=1, reason="Second", title="Changed by staff")
    message = stale.value.message
    assert "Manager Tester" in message
    assert str(specimen.history.first().history_date.astimezone().year) in message
    assert "reload" in message
    assert stale.value.status_code == 409
    fresh = Specimen.objects.get(pk=specimen.pk)
    assert (fresh.title, fresh.version) == ("Changed by the manager", 2)


@pytest.mark.parametrize("bad", [None, "", "two", "1.5"])
def test_a_missing_or_malformed_version_is_refused(specimen, staff, bad):
    with pytest.raises(StaleVersion, match="version is missing"):
        specimen_update(specimen, actor=staff, version=bad, reason="x", title="y")
    assert Specimen.objects.get(pk=specimen.pk).version == 1


def test_api_update_needs_the_version_and_answers_409_when_stale(specimen, staff, api_for):
    api = api_for(staff)
    url = f"/api/v1/kernel-test/specimens/{specimen.pk}/"
    missing = api.patch(url, {"title": "No version"}, format="json")
    assert missing.status_code == 400 and "version" in missing.json()

    ok = api.patch(url, {"title": "New title", "version": 1}, format="json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["version"] == 2

    stale = api.patch(url, {"title": "Lost update", "version": 1}, format="json")
    assert stale.status_code == 409
    assert "Staff Tester" in stale.json()["detail"]
    assert Specimen.objects.get(pk=specimen.pk).title == "New title"


def test_the_api_never_writes_the_status(specimen, staff, api_for):
    response = api_for(staff).patch(
        f"/api/v1/kernel-test/specimens/{specimen.pk}/", {"status": "approved", "version": 1}, format="json"
    )
    assert response.status_code == 200
    assert Specimen.objects.get(pk=specimen.pk).status == "draft"
