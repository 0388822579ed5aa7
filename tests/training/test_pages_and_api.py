"""Every training page and endpoint through the same checks: anonymous -> login/401, wrong
role -> 403 (or 404 for someone else's record), right role -> 200, bad input -> 400 or a form
error, never 500, nothing changed."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.conftest import PASSWORD
from training import services
from training.models import AssignmentStatus, TrainingAssignment, TrainingRequirement

pytestmark = pytest.mark.django_db

READER_PAGES = [
    "training:matrix",
    "training:assignments",
    "training:requirements",
    "training:gates",
]


@pytest.fixture
def mine(requirement, employee, sop):
    return TrainingAssignment.objects.get(user=employee, document_version=sop.effective_version)


def test_anonymous_is_sent_to_login(client, mine):
    for name in ["training:my", *READER_PAGES]:
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(reverse("training:assignment", args=[mine.pk])).status_code == 302


def test_everyone_sees_my_training_and_only_readers_see_the_rest(personas, client_for, mine):
    for who, user in personas.items():
        c = client_for(user)
        assert c.get(reverse("training:my")).status_code == (200 if who != "outsider" else 403), who
        for name in READER_PAGES:
            expected = 200 if who in {"staff", "manager", "auditor"} else 403
            assert c.get(reverse(name)).status_code == expected, (who, name)


def test_my_training_lists_the_open_training_with_a_sign_button(client_for, mine, employee):
    page = client_for(employee).get(reverse("training:my")).content.decode()
    assert mine.document_version.document.number in page
    assert "Sign: read and understood" in page
    assert 'name="action" value="complete"' in page


def test_someone_elses_assignment_is_not_found_for_an_employee(
    client_for, mine, trainees, staff, auditor
):
    assert (
        client_for(trainees[0]).get(reverse("training:assignment", args=[mine.pk])).status_code
        == 404
    )
    assert client_for(staff).get(reverse("training:assignment", args=[mine.pk])).status_code == 200
    assert (
        client_for(auditor).get(reverse("training:assignment", args=[mine.pk])).status_code == 200
    )


def test_signing_in_the_browser_completes_and_a_wrong_password_does_not(client_for, mine, employee):
    c = client_for(employee)
    url = reverse("training:assignment-transition", args=[mine.pk])
    c.post(url, {"action": "complete", "password": "wrong"})
    mine.refresh_from_db()
    assert mine.status == AssignmentStatus.ASSIGNED
    response = c.post(url, {"action": "complete", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.status == AssignmentStatus.COMPLETED
    page = c.get(reverse("training:assignment", args=[mine.pk])).content.decode()
    assert "Read and understood" in page and "SHA-256" in page


def test_the_requirement_form_validates(client_for, staff, sop, employee_group):
    c = client_for(staff)
    url = reverse("training:requirements")
    for bad in (
        {"document": sop.pk, "due_days": 30},  # neither role nor job function
        {
            "document": sop.pk,
            "role": employee_group.pk,
            "job_function": "Welder",
            "due_days": 30,
        },  # both
        {"document": sop.pk, "role": employee_group.pk, "due_days": 0},
        {"document": sop.pk, "role": employee_group.pk, "due_days": "many"},
        {"document": 999999, "role": employee_group.pk, "due_days": 30},
        {"document": sop.pk, "job_function": "x" * 500, "due_days": 30},
    ):
        response = c.post(url, bad)
        assert response.status_code == 200 and "errorlist" in response.content.decode(), bad
    assert not TrainingRequirement.objects.exists()
    response = c.post(
        url, {"document": sop.pk, "role": employee_group.pk, "due_days": 14, "reason": "Line staff"}
    )
    assert response.status_code == 302
    requirement = TrainingRequirement.objects.get()
    assert requirement.due_days == 14
    duplicate = c.post(url, {"document": sop.pk, "role": employee_group.pk, "due_days": 14})
    assert "exists already" in duplicate.content.decode()
    assert TrainingRequirement.objects.count() == 1


def test_requirement_pages_for_change_and_retire(client_for, staff, auditor, requirement):
    c = client_for(staff)
    url = reverse("training:requirement", args=[requirement.pk])
    assert c.get(url).status_code == 200
    stale = c.post(url, {"due_days": 10, "version": requirement.version + 5, "reason": "Faster"})
    assert "changed by" in stale.content.decode()
    c.post(url, {"due_days": 10, "version": requirement.version, "reason": "Faster"})
    requirement.refresh_from_db()
    assert requirement.due_days == 10
    assert (
        client_for(auditor)
        .post(url, {"retire": "1", "version": requirement.version, "reason": "x"})
        .status_code
        == 403
    )
    c.post(url, {"retire": "1", "version": requirement.version, "reason": "Document merged"})
    requirement.refresh_from_db()
    assert not requirement.is_active


def test_matrix_exports_csv_and_xlsx(client_for, manager, mine, sop):
    c = client_for(manager)
    csv = c.get(reverse("training:matrix") + "?export=csv")
    assert csv["Content-Type"].startswith("text/csv")
    lines = b"".join(csv.streaming_content).decode().splitlines()
    assert lines[0].startswith("User,Name,Department")
    assert f"{sop.number} rev 1" in lines[0]
    assert len(lines) == 5  # header + four people
    xlsx = c.get(reverse("training:matrix") + "?export=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(row=1, column=6).value == f"{sop.number} rev 1"
    assert sheet.max_row == 5


def test_matrix_filters_and_hostile_filter_values(client_for, manager, mine, employee, sop):
    c = client_for(manager)
    assert c.get(reverse("training:matrix"), {"document": sop.pk}).status_code == 200
    for hostile in (
        {"role": "abc"},
        {"department": "-1"},
        {"document": "<script>"},
        {"role": "9" * 30},
    ):
        assert c.get(reverse("training:matrix"), hostile).status_code == 200


def test_version_training_page_and_impact_form(client_for, staff, requirement, sop):
    c = client_for(staff)
    url = reverse("training:version", args=[sop.effective_version_id])
    page = c.get(url).content.decode()
    assert "Trainees" in page
    # An effective revision's impact is settled: the service refuses, the page says so.
    response = c.post(url, {"is_major": "0", "reason": "Typo"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()


def test_session_pages(client_for, staff, employee, mine, sop):
    c = client_for(staff)
    url = reverse("training:session-create", args=[sop.effective_version_id])
    assert client_for(employee).get(url).status_code == 403
    assert c.get(url).status_code == 200
    bad = c.post(
        url,
        {
            "held_on": "not a date",
            "duration_minutes": 60,
            "attendees": [employee.pk],
            "password": PASSWORD,
        },
    )
    assert "errorlist" in bad.content.decode()
    wrong = c.post(
        url,
        {
            "held_on": "2026-01-05",
            "duration_minutes": 60,
            "attendees": [employee.pk],
            "password": "nope",
        },
    )
    assert "not correct" in wrong.content.decode()
    response = c.post(
        url,
        {
            "held_on": "2026-01-05",
            "duration_minutes": 60,
            "attendees": [employee.pk],
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    session_url = response["Location"]
    e = client_for(employee)
    assert "Sign your attendance" in e.get(session_url).content.decode()
    e.post(session_url, {"password": PASSWORD})
    mine.refresh_from_db()
    assert mine.status == AssignmentStatus.COMPLETED and mine.session_id is not None


# ---------------------------------------------------------------- API


def test_api_assignment_list_is_scoped_and_transitions_work(
    api_for, employee, trainees, manager, mine
):
    mine_only = api_for(employee).get("/api/v1/training/assignments/")
    assert mine_only.status_code == 200
    assert [row["id"] for row in mine_only.json()["results"]] == [mine.pk]
    assert api_for(manager).get("/api/v1/training/assignments/").json()["count"] == 4
    assert api_for(trainees[0]).get(f"/api/v1/training/assignments/{mine.pk}/").status_code == 404
    assert api_for(None).get("/api/v1/training/assignments/").status_code in (401, 403)

    offered = api_for(employee).get(f"/api/v1/training/assignments/{mine.pk}/transitions/").json()
    assert "complete" in [a["action"] for a in offered]
    url = f"/api/v1/training/assignments/{mine.pk}/transitions/"
    assert (
        api_for(employee)
        .post(url, {"action": "complete", "password": "bad"}, format="json")
        .status_code
        == 403
    )
    assert api_for(employee).post(url, {"action": "fly"}, format="json").status_code == 409
    assert api_for(employee).post(url, {"action": ["x"]}, format="json").status_code == 400
    assert (
        api_for(manager)
        .post(url, {"action": "waive", "password": PASSWORD}, format="json")
        .status_code
        == 400
    )
    done = api_for(employee).post(url, {"action": "complete", "password": PASSWORD}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert (
        api_for(employee)
        .post(url, {"action": "complete", "password": PASSWORD}, format="json")
        .status_code
        == 409
    )
    history = api_for(manager).get(f"/api/v1/training/assignments/{mine.pk}/history/").json()
    assert history[0]["action"] == "complete"
    signatures = api_for(manager).get(f"/api/v1/training/assignments/{mine.pk}/signatures/").json()
    assert signatures[0]["meaning"] == "Read and understood"


def test_api_assignment_filters(api_for, manager, mine, employee):
    c = api_for(manager)
    assert c.get("/api/v1/training/assignments/", {"user": employee.pk}).json()["count"] == 1
    assert c.get("/api/v1/training/assignments/", {"overdue": "true"}).json()["count"] == 0
    assert c.get("/api/v1/training/assignments/", {"status": "nonsense"}).status_code == 400


def test_api_requirements_create_update_retire(api_for, staff, employee, auditor, sop):
    c = api_for(staff)
    assert api_for(employee).get("/api/v1/training/requirements/").status_code == 403
    assert (
        api_for(auditor)
        .post(
            "/api/v1/training/requirements/",
            {"role": "Employee", "document": sop.pk},
            format="json",
        )
        .status_code
        == 403
    )
    for bad in (
        {"document": sop.pk},
        {"role": "Employee", "job_function": "Welder", "document": sop.pk},
        {"role": "No such role", "document": sop.pk},
        {"role": "Employee", "document": sop.pk, "due_days": -3},
        {"role": "Employee", "document": "SOP-001"},
        {"role": "Employee", "document": sop.pk, "due_days": "x" * 10000},
    ):
        assert c.post("/api/v1/training/requirements/", bad, format="json").status_code == 400, bad
    assert not TrainingRequirement.objects.exists()
    created = c.post(
        "/api/v1/training/requirements/",
        {"role": "Employee", "document": sop.pk, "due_days": 21},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["role"] == "Employee" and body["version"] == 1
    rid = body["id"]
    assert (
        c.patch(
            f"/api/v1/training/requirements/{rid}/", {"due_days": 5, "reason": "x"}, format="json"
        ).status_code
        == 400
    )
    assert (
        c.patch(
            f"/api/v1/training/requirements/{rid}/",
            {"due_days": 5, "reason": "x", "version": 9},
            format="json",
        ).status_code
        == 409
    )
    ok = c.patch(
        f"/api/v1/training/requirements/{rid}/",
        {"due_days": 5, "reason": "Faster", "version": 1},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["due_days"] == 5
    assert c.delete(f"/api/v1/training/requirements/{rid}/").status_code == 405
    retired = c.post(
        f"/api/v1/training/requirements/{rid}/retire/",
        {"reason": "Merged", "version": 2},
        format="json",
    )
    assert retired.status_code == 200 and retired.json()["is_active"] is False
    assert c.get(f"/api/v1/training/requirements/{rid}/history/").json()[0]["action"] == "retire"


def test_the_overdue_flag_tag_renders_for_overdue_people_only(rf, mine, employee, trainees):
    from django.template import Context, Template
    from django.utils import timezone

    TrainingAssignment.objects.filter(pk=mine.pk).update(
        due_date=timezone.localdate() - timezone.timedelta(days=1)
    )
    template = Template("{% load training_tags %}[{% training_flag a %}][{% training_flag b %}]")
    request = rf.get("/")
    html = template.render(Context({"a": employee, "b": trainees[0], "request": request}))
    assert "training overdue" in html.split("][")[0]
    assert html.endswith("[]")


def test_the_flags_of_the_people_a_page_names_cost_one_query(rf, mine, employee, trainees, manager, django_assert_num_queries):
    from django.template import Context, Template
    from django.utils import timezone

    TrainingAssignment.objects.filter(pk=mine.pk).update(
        due_date=timezone.localdate() - timezone.timedelta(days=1)
    )
    template = Template("{% load training_tags %}[{% training_flag a %}][{% training_flag b %}][{% training_flag c %}]")
    named = {"a": employee, "b": manager, "c": employee.pk, "training_flag_people": [employee.pk, manager.pk]}
    with django_assert_num_queries(1):
        html = template.render(Context({**named, "request": rf.get("/")}))
    first, second, third = html.split("][")
    assert "training overdue" in first and second == "" and "training overdue" in third
    # Someone the page did not name is still answered, with one more query.
    with django_assert_num_queries(2):
        html = template.render(Context({"a": manager, "b": employee, "c": manager, "request": rf.get("/")}))
    assert html.startswith("[][") and "training overdue" in html


def test_the_gate_progress_tag(manager, requirement, sop):
    from django.template import Context, Template

    template = Template("{% load training_tags %}{% training_gate_progress v %}")
    assert template.render(Context({"v": sop.effective_version})).strip() == ""
    services.release_gate_set(
        actor=manager, doc_type="sop", required_percent=80, is_active=True, reason="x"
    )
    assert "Training release gate" in template.render(Context({"v": sop.effective_version}))


def test_the_kernels_record_badges_render_what_the_training_tags_render(rf, manager, mine, employee, trainees, requirement, sop):
    """Pages below training show its marks through {% record_badges %} (qms.extensions, issue 21):
    the same HTML as training's own tags, for a person and for a document version."""
    from django.template import Context, Template
    from django.utils import timezone

    TrainingAssignment.objects.filter(pk=mine.pk).update(due_date=timezone.localdate() - timezone.timedelta(days=1))
    services.release_gate_set(actor=manager, doc_type="sop", required_percent=80, is_active=True, reason="x")
    own = Template("{% load training_tags %}[{% training_flag a %}][{% training_flag b %}][{% training_gate_progress v %}]")
    kernel = Template('{% load qms_tags %}[{% record_badges "person" a %}][{% record_badges "person" b %}][{% record_badges "document_version" v %}]')

    def context():
        return Context({"a": employee, "b": trainees[0], "v": sop.effective_version, "request": rf.get("/")})

    html = own.render(context())
    assert "training overdue" in html and "Training release gate" in html
    assert kernel.render(context()) == html


def test_a_trainee_reads_a_release_gated_revision_on_the_training_page(
    client_for, requirement, sop, staff, manager, employee, trainees
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from documents import services as document_services
    from tests.training.conftest import approve_version

    services.release_gate_set(
        actor=manager, doc_type="sop", required_percent=100, is_active=True, reason="Train first"
    )
    draft = document_services.version_create(
        document=sop,
        actor=staff,
        content_text="1. Purpose\nNew gated text.\n",
        change_summary="Gated change",
        effective_from=timezone.localdate(),
        upload=SimpleUploadedFile(
            "steps.txt", b"Step list for the new revision", content_type="text/html"
        ),
    )
    rev2 = approve_version(draft, author=staff, approver=manager)
    services.release_gate_prepare()
    mine = TrainingAssignment.objects.get(user=employee, document_version=rev2)
    c = client_for(employee)
    # The documents register does not show an approved revision to an employee; training does.
    assert c.get(rev2.get_absolute_url()).status_code == 404
    page = c.get(reverse("training:assignment", args=[mine.pk])).content.decode()
    assert "New gated text." in page and "not yet effective" in page
    download = c.get(reverse("training:assignment-file", args=[mine.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "APPROVED" in download["X-QMS-Control-Statement"]
    assert (
        client_for(trainees[0]).get(reverse("training:assignment-file", args=[mine.pk])).status_code
        == 404
    )
    old = TrainingAssignment.objects.get(user=employee, document_version=sop.effective_version)
    document_services.version_transition(
        sop.effective_version, "obsolete", actor=manager, password=PASSWORD, reason="Withdrawn"
    )
    assert c.get(reverse("training:assignment-file", args=[old.pk])).status_code == 404


def test_my_work_shows_my_training_and_my_teams_overdue_training(
    client_for, requirement, employee, manager, sop, django_assert_max_num_queries
):
    from django.utils import timezone

    from training import selectors

    employee.manager = manager
    employee.save()
    assert [s.title for s in selectors.my_work(employee)] == ["My training"]
    assert selectors.my_work(manager) == []
    TrainingAssignment.objects.filter(user=employee).update(
        due_date=timezone.localdate() - timezone.timedelta(days=2)
    )
    sections = selectors.my_work(manager)
    assert [s.title for s in sections] == ["Overdue training in my team"]
    assert sections[0].items[0].user == employee
    with django_assert_max_num_queries(3):
        selectors.my_work(manager)
    page = client_for(manager).get("/").content.decode()
    assert "Overdue training in my team" in page and employee.full_name in page


def test_csv_export_neutralises_formulas_typed_into_names(
    client_for, manager, requirement, employee
):
    employee.first_name = '=HYPERLINK("http://evil")'
    employee.save()
    body = b"".join(
        client_for(manager).get(reverse("training:matrix") + "?export=csv").streaming_content
    ).decode()
    assert "'=HYPERLINK" in body
    assert "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body
    xlsx = client_for(manager).get(reverse("training:matrix") + "?export=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    names = [sheet.cell(row=r, column=2) for r in range(2, sheet.max_row + 1)]
    assert all(cell.data_type == "s" for cell in names)
    assert any(cell.value.startswith("'=HYPERLINK") for cell in names)
