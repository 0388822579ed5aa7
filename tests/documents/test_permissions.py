"""Who may read and write (docs/architecture.md rule 7): every page and endpoint through the same
checks. Employees see effective versions only; auditors read everything and change nothing."""

import pytest
from django.urls import reverse

from documents import services
from documents.models import Document
from tests.documents.conftest import SOP_TEXT

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(effective_document, staff):
    draft = services.version_create(document=effective_document, actor=staff, change_summary="Next")
    unreleased = services.document_create(actor=staff, title="Secret draft", doc_type="sop", owner=staff, content_text=SOP_TEXT)
    return effective_document, effective_document.effective_version, draft, unreleased


def page_urls(document, effective, draft, unreleased):
    d = document.pk
    return {
        "list": reverse("documents:list"),
        "detail": reverse("documents:detail", args=[d]),
        "effective": reverse("documents:version", args=[d, effective.pk]),
        "effective_download": reverse("documents:version-download", args=[d, effective.pk]),
        "effective_print": reverse("documents:version-print", args=[d, effective.pk]),
        "draft": reverse("documents:version", args=[d, draft.pk]),
        "draft_download": reverse("documents:version-download", args=[d, draft.pk]),
        "diff": reverse("documents:diff", args=[d]),
        "unreleased": reverse("documents:detail", args=[unreleased.pk]),
        "create": reverse("documents:create"),
        "edit": reverse("documents:edit", args=[d]),
        "new_version": reverse("documents:version-create", args=[d]),
    }


EXPECTED = {
    # url name: (staff, manager, auditor, employee, outsider)
    "list": (200, 200, 200, 200, 403),
    "detail": (200, 200, 200, 200, 403),
    "effective": (200, 200, 200, 200, 403),
    "effective_download": (200, 200, 200, 200, 403),
    "effective_print": (200, 200, 200, 200, 403),
    "draft": (200, 200, 200, 404, 403),
    "draft_download": (200, 200, 200, 404, 403),
    "diff": (200, 200, 200, 403, 403),
    "unreleased": (200, 200, 200, 404, 403),
    "create": (200, 200, 403, 403, 403),
    "edit": (200, 200, 403, 403, 403),
    "new_version": (200, 200, 403, 403, 403),
}


def test_pages_answer_each_role_as_expected(client_for, client, personas, setup):
    urls = page_urls(*setup)
    for name, url in urls.items():
        assert client.get(url).status_code == 302, name  # anonymous: to the login page
        for persona, expected in zip(("staff", "manager", "auditor", "employee", "outsider"), EXPECTED[name], strict=True):
            status = client_for(personas[persona]).get(url).status_code
            assert status == expected, f"{name} as {persona}: {status}"


def test_employee_api_sees_only_effective_versions(api_for, employee, setup):
    document, effective, draft, unreleased = setup
    listing = api_for(employee).get(reverse("api-document-list")).json()
    assert [row["number"] for row in listing["results"]] == [document.number]
    versions = api_for(employee).get(reverse("api-document-version-list", args=[document.pk])).json()
    assert [row["id"] for row in versions["results"]] == [effective.pk]
    assert api_for(employee).get(reverse("api-document-version-detail", args=[document.pk, draft.pk])).status_code == 404
    assert api_for(employee).get(reverse("api-document-detail", args=[unreleased.pk])).status_code == 404


def test_writes_are_refused_to_auditor_employee_and_anonymous(api_for, auditor, employee, setup):
    document, _effective, draft, _ = setup
    create = {"title": "X", "doc_type": "sop", "owner": document.owner_id, "review_period_months": 12}
    assert api_for(None).post(reverse("api-document-list"), create, format="json").status_code in (401, 403)
    for user in (auditor, employee):
        api = api_for(user)
        assert api.post(reverse("api-document-list"), create, format="json").status_code == 403
        assert api.patch(reverse("api-document-version-detail", args=[document.pk, draft.pk]),
                         {"content_text": "x", "version": draft.version}, format="json").status_code == 403
        assert api.post(reverse("api-document-version-transitions", args=[document.pk, draft.pk]),
                        {"action": "submit"}, format="json").status_code == 403
    assert Document.objects.count() == 2


def test_auditor_sees_no_actions_and_browser_post_is_refused(client_for, auditor, setup):
    document, _effective, draft, _ = setup
    page = client_for(auditor).get(reverse("documents:version", args=[document.pk, draft.pk])).content.decode()
    assert "Submit for review" not in page and "Edit draft" not in page
    url = reverse("documents:version-transition", args=[document.pk, draft.pk])
    assert client_for(auditor).post(url, {"action": "submit"}).status_code == 403


def test_staff_cannot_confirm_a_review_of_someone_elses_document(client_for, personas, setup, manager):
    from django.contrib.auth import get_user_model

    from tests.conftest import make_user

    other = make_user("other_staff", "Quality Staff")
    document = setup[0]
    response = client_for(other).post(reverse("documents:periodic-review", args=[document.pk]),
                                      {"outcome": "no_change", "comment": "x", "password": "Correct-Horse-9"}, follow=True)
    assert "Only the document owner or a Quality Manager" in response.content.decode()
    assert get_user_model().objects.filter(username="other_staff").exists()
