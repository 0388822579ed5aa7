"""Auditors read everything and change nothing, anywhere (issue 2 item 5): pages, the API,
the workflow and the Django admin. (The URL walk also POSTs to every URL as the auditor.)"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from qms import roles as qms_roles
from qms.models import Department
from tests.conftest import PASSWORD
from tests.kernel_app.models import Specimen

# Admin pages an auditor may not even read: API tokens are credentials.
AUDITOR_HIDDEN_ADMIN_APPS = {"authtoken"}


def test_the_auditor_role_holds_view_permissions_only_on_every_app(auditor):
    codenames = set(Group.objects.get(name=qms_roles.AUDITOR).permissions.values_list("content_type__app_label", "codename"))
    assert codenames, "the Auditor group has no permissions: were they synced after migrate?"
    assert all(codename.startswith("view_") for _, codename in codenames)
    apps = {app for app, _ in codenames}
    assert {"qms", "auth", *qms_roles.DOMAIN_APPS} & set(_apps_with_models()) <= apps


def _apps_with_models():
    from django.apps import apps

    return {config.label for config in apps.get_app_configs() if list(config.get_models())}


def test_auditor_cannot_take_a_workflow_step_in_the_browser(client_for, auditor, specimen):
    response = client_for(auditor).post(
        reverse("kernel_app:transition", args=[specimen.pk]), {"action": "submit", "reason": "x"}
    )
    assert response.status_code == 403
    assert Specimen.objects.get(pk=specimen.pk).status == "draft"


def test_auditor_can_read_but_not_write_through_the_api(api_for, auditor, specimen):
    api = api_for(auditor)
    base = "/api/v1/kernel-test/specimens/"
    assert api.get(base).status_code == 200
    assert api.get(f"{base}{specimen.pk}/").status_code == 200
    assert api.get(f"{base}{specimen.pk}/history/").status_code == 200
    assert api.get(f"{base}{specimen.pk}/transitions/").json() == []
    assert api.post(base, {"title": "New"}, format="json").status_code == 403
    assert api.patch(f"{base}{specimen.pk}/", {"title": "x", "version": 1}, format="json").status_code == 403
    assert api.put(f"{base}{specimen.pk}/", {"title": "x", "version": 1}, format="json").status_code == 403
    assert api.delete(f"{base}{specimen.pk}/").status_code in (403, 405)
    response = api.post(f"{base}{specimen.pk}/transitions/", {"action": "submit"}, format="json")
    assert response.status_code == 403
    fresh = Specimen.objects.get(pk=specimen.pk)
    assert (fresh.title, fresh.status, fresh.version) == (specimen.title, "draft", 1)
    assert Specimen.objects.count() == 1


def test_auditor_logs_in_and_sees_the_read_only_banner(client, auditor):
    response = client.post(reverse("login"), {"username": "auditor", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert b"Read-only access" in response.content


@pytest.fixture
def admin_objects(administrator, staff):
    Department.objects.create(name="Quality")
    return {model: model._default_manager.order_by("pk").first() for model in admin.site._registry}


def test_auditor_opens_admin_changelists_but_every_admin_write_is_refused(client_for, auditor, admin_objects):
    browser = client_for(auditor)
    assert browser.get(reverse("admin:index")).status_code == 200
    checked = 0
    for model, obj in admin_objects.items():
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        changelist = browser.get(reverse(f"{name}_changelist"))
        expected = 403 if opts.app_label in AUDITOR_HIDDEN_ADMIN_APPS else 200
        assert changelist.status_code == expected, f"auditor GET {name}_changelist -> {changelist.status_code}"

        add = browser.post(reverse(f"{name}_add"), {})
        assert add.status_code == 403, f"auditor POST {name}_add -> {add.status_code}"
        if obj is None:
            continue
        change_url = reverse(f"{name}_change", args=[obj.pk])
        if expected == 200:
            assert browser.get(change_url).status_code == 200, f"auditor cannot view {change_url}"
        assert browser.post(change_url, {}).status_code == 403, f"auditor POST {change_url} was not refused"
        assert browser.post(reverse(f"{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
        checked += 1
    assert checked >= 2
    assert Department.objects.filter(name="Quality").exists()


def test_admin_offers_no_deletes_and_history_is_read_only(client_for, administrator, admin_objects):
    browser = client_for(administrator)
    for model, obj in admin_objects.items():
        if obj is None:
            continue
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
        assert browser.post(url, {"post": "yes"}).status_code == 403, f"{url} allowed a delete"
        assert model._default_manager.filter(pk=obj.pk).exists()
    user_history = reverse("admin:qms_user_history", args=[administrator.pk])
    assert browser.get(user_history).status_code == 200
