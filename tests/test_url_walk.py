"""Every URL and API endpoint, taken from the URL resolver so that a new one cannot be
forgotten, as anonymous and as each role (docs/style.md "Tests", issue 2 "What must be shown"):

- anonymous: a page redirects to the login page unless it is marked `login_not_required`;
  an API endpoint answers 401 or 403;
- a logged-in role without the view's `read_roles` gets 403;
- a role with the right gets 200 (405 when the view does not answer GET);
- an empty POST as the Auditor is refused (403 or 405), except the few URLs that only touch the
  auditor's own session or inbox, and public pages (a customer's form is anyone's to post);
- nothing ever answers 500.

URL arguments are filled from the demo data (`seed_demo`): a view's `model` (or its queryset's)
gives the row, and `pk` or a field named like the argument gives the value. Where that cannot
work, add an entry to SAMPLE_KWARGS; the test fails with "add a sample for URL <name>" until you
do. Admin internals are skipped, except the admin index and every changelist.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from qms import roles as qms_roles
from qms.permissions import RolePermission, RoleRequiredMixin

LOGIN_URL = "/accounts/login/"
ADMIN_LOGIN_URL = "/admin/login/"

# URL name -> function(row lookups) returning the URL's kwargs, for URLs whose arguments the
# generic filler cannot derive (several arguments, tokens, nested records). Called after
# seed_demo, inside the test's transaction.
SAMPLE_KWARGS: dict[str, callable] = {}


def _document_version(status: str):
    from documents.models import DocumentVersion

    return DocumentVersion.objects.filter(status=status).exclude(content_text="").order_by("pk").first()


def _version_page(status: str = "effective"):
    return lambda: {"pk": _document_version(status).document_id, "version_pk": _document_version(status).pk}


def _version_api(status: str = "effective"):
    return lambda: {"document_pk": _document_version(status).document_id, "pk": _document_version(status).pk}


# documents: versions are nested under their document; an employee sees effective ones only.
SAMPLE_KWARGS.update({
    "documents:diff": lambda: {"pk": _document_version("superseded").document_id},
    "documents:version": _version_page(),
    "documents:version-edit": _version_page("draft"),
    "documents:version-transition": _version_page("draft"),
    "documents:version-download": _version_page(),
    "documents:version-print": _version_page(),
    "documents:approval-rule-edit": lambda: {"doc_type": "sop"},
    "api-approval-matrix-detail": lambda: {"doc_type": "sop"},
    "api-approval-matrix-history": lambda: {"doc_type": "sop"},
    "api-document-version-list": lambda: {"document_pk": _document_version("effective").document_id},
    **{name: _version_api() for name in (
        "api-document-version-detail", "api-document-version-transitions", "api-document-version-history",
        "api-document-version-signatures", "api-document-version-download",
    )},
})

def _open_survey_token() -> str:
    """complaints: the survey link's token is only in the e-mail (the database keeps its hash)."""
    from complaints.models import Survey
    from qms.models import OutboxMessage

    # An open link: unanswered and not expired (the demo's two years of history hold expired ones).
    survey = (
        Survey.objects.filter(answered_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("complaint").order_by("pk").first()
    )
    body = (
        OutboxMessage.objects.filter(body__contains="/complaints/survey/")
        .filter(body__contains=survey.complaint.reference)
        .values_list("body", flat=True)
        .first()
    )
    return body.split("/complaints/survey/")[1].split("/")[0]


SAMPLE_KWARGS["complaints:survey"] = lambda: {"token": _open_survey_token()}


def _pk(model_path: str, **filters):
    def sample():
        from django.apps import apps

        return {"pk": apps.get_model(model_path).objects.filter(**filters).order_by("pk").values_list("pk", flat=True).first()}

    return sample


# capa: pages take the CAPA, its actions, evidence files or checks by pk.
SAMPLE_KWARGS.update({
    **{name: _pk("capa.Capa") for name in ("capa:detail", "capa:edit", "capa:root-cause", "capa:action-create", "capa:check-create")},
    "capa:action-edit": _pk("capa.CapaAction"),
    "capa:evidence-upload": _pk("capa.CapaAction"),
    "capa:evidence-download": lambda: {"pk": _evidence_pk()},
    "capa:check-result": _pk("capa.EffectivenessCheck"),
    "capa:check-edit": _pk("capa.EffectivenessCheck"),
})


def _evidence_pk() -> int:
    """The demo has no evidence file: attach a small one to the first action."""
    import hashlib

    from django.core.files.base import ContentFile

    from capa.models import ActionEvidence, CapaAction

    existing = ActionEvidence.objects.order_by("pk").first()
    if existing:
        return existing.pk
    action = CapaAction.objects.order_by("pk").first()
    body = b"Evidence: line re-validated.\n"
    evidence = ActionEvidence(
        action=action, stored_name="walk.txt", original_name="walk.txt", content_type="text/plain",
        size=len(body), sha256=hashlib.sha256(body).hexdigest(), uploaded_by=action.owner,
    )
    evidence.file.save("walk.txt", ContentFile(body), save=True)
    return evidence.pk


def _audit_record():
    from complaints.models import Complaint

    return {"model_label": "complaints.complaint", "pk": Complaint.objects.order_by("pk").values_list("pk", flat=True).first()}


def _api_token():
    from django.contrib.auth import get_user_model

    from qms.models import ApiToken
    from qms.tokens import api_token_issue

    token = ApiToken.objects.filter(user__username="staff").first()
    if token is None:
        token, _key = api_token_issue(user=get_user_model().objects.get(username="staff"), name="walk")
    return {"pk": token.pk}


SAMPLE_KWARGS["audit-record"] = _audit_record
# API tokens (issue 16 item 7): a token of the staff user; others see it only as administrators.
SAMPLE_KWARGS["api-token-revoke"] = _api_token
SAMPLE_KWARGS["api-token-record-detail"] = _api_token
SAMPLE_KWARGS["api-token-record-revoke"] = _api_token
SAMPLE_KWARGS["audit-record-pdf"] = _audit_record

# URL name -> status a role holding the right gets on GET, where it is not 200/405.
EXPECTED_GET = {
    "login": 302,  # redirect_authenticated_user
}

# (URL name, persona) pairs where a role holding the view's right may still get 404 because
# the record is scoped away from it (docs/api.md: 404 "unknown or not visible"). Keep this short.
MAY_BE_HIDDEN: set[tuple[str, str]] = {
    # training: administrators have no training of their own; the demo employee attended no session.
    ("training:assignment", "administrator"),
    ("training:assignment-file", "administrator"),
    ("training:session", "employee"),
    ("training:session", "administrator"),
    ("training-assignment-detail", "administrator"),
    ("training-assignment-history", "administrator"),
    ("training-assignment-signatures", "administrator"),
    ("training-assignment-transitions", "administrator"),
    # an API token is its owner's (staff) and the administrators' to see.
    ("api-token-record-detail", "manager"),
    ("api-token-record-detail", "auditor"),
    ("api-token-record-detail", "employee"),
    ("api-token-record-detail", "outsider"),
    # service quality: people see their own evaluations, automatic scores and tasks; Quality
    # Managers and Auditors all (decision record 0030). The demo's first rows are someone else's.
    *(
        (name, persona)
        for name in (
            "sq-evaluation-detail", "sq-evaluation-history", "sq-evaluation-signatures", "sq-evaluation-transitions",
            "sq-auto-score-detail", "sq-evaluation-task-detail", "service_quality:evaluation-detail",
            "sq-coaching-detail", "sq-coaching-history", "sq-coaching-signatures", "sq-coaching-transitions",
            "service_quality:coaching-detail",
        )
        for persona in ("staff", "employee", "administrator")
    ),
}

# URLs an Auditor may POST to: they change only the auditor's own session, password or inbox.
# Issuing and revoking one's own API tokens changes only the auditor's own credentials.
AUDITOR_MAY_POST = {
    "login", "logout", "password_change", "notifications-read", "api-token",
    "api-tokens", "api-token-revoke", "api-token-record-list", "api-token-record-revoke",
}

SLOW_URL_SECONDS = 1.0

PERSONAS = ("staff", "manager", "auditor", "employee", "administrator", "outsider")


@dataclass
class Route:
    name: str
    pattern: str
    callback: object
    kwarg_names: list[str] = field(default_factory=list)

    @property
    def view_class(self):
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)

    @property
    def is_api(self) -> bool:
        cls = self.view_class
        return cls is not None and issubclass(cls, APIView)

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("admin:")

    @property
    def login_required(self) -> bool:
        return getattr(self.callback, "login_required", True)

    def answers_get(self) -> bool:
        actions = getattr(self.callback, "actions", None)
        if actions is not None:  # a DRF viewset route: method -> action
            return "get" in actions
        cls = self.view_class
        if cls is None:
            return True
        return "get" in cls.http_method_names and hasattr(cls, "get")

    def read_roles(self):
        """The roles that may GET this URL, or None when any logged-in user may."""
        cls = self.view_class
        if cls is None:
            return None
        if self.is_api:
            permission_classes = getattr(cls, "permission_classes", [])
            if any(isinstance(p, type) and issubclass(p, RolePermission) for p in permission_classes):
                return frozenset(getattr(cls, "read_roles", qms_roles.READERS))
            return None
        if issubclass(cls, RoleRequiredMixin):
            return frozenset(cls.read_roles)
        return None

    def is_public_api(self) -> bool:
        permission_classes = getattr(self.view_class, "permission_classes", [])
        return bool(permission_classes) and all(
            isinstance(p, type) and issubclass(p, AllowAny) for p in permission_classes
        )

    def model(self):
        """The model behind the view: `model`, `queryset`, the DRF serializer's or the
        ModelForm's model, or what `get_queryset()` returns for a superuser."""
        cls = self.view_class
        if cls is None:
            return None
        if getattr(cls, "model", None) is not None:
            return cls.model
        if getattr(cls, "queryset", None) is not None:
            return cls.queryset.model
        for holder in (getattr(cls, "serializer_class", None), getattr(cls, "form_class", None)):
            meta = getattr(holder, "Meta", None) or getattr(holder, "_meta", None)
            if getattr(meta, "model", None) is not None:
                return meta.model
        return self._model_from_get_queryset(cls)

    def _model_from_get_queryset(self, cls):
        if not hasattr(cls, "get_queryset"):
            return None
        from django.contrib.auth import get_user_model
        from django.test import RequestFactory

        request = RequestFactory().get("/")
        request.user = get_user_model().objects.filter(is_superuser=True).first()
        try:
            view = cls()
            view.request = request
            view.args, view.kwargs = (), {}
            view.format_kwarg = None
            if hasattr(view, "action"):
                view.action = "list"
            return view.get_queryset().model
        except Exception:  # a queryset that needs URL arguments: SAMPLE_KWARGS it is
            return None


def walk(resolver=None, prefix="", namespace="", kwarg_names=()):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        names = [*kwarg_names, *entry.pattern.regex.groupindex]
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from walk(entry, prefix + str(entry.pattern), ns, names)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield Route(name=name, pattern=prefix + str(entry.pattern), callback=entry.callback, kwarg_names=names)


def admin_changelists() -> set[str]:
    return {f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist" for m in admin_site._registry}


def routes_to_walk() -> tuple[list[Route], list[str]]:
    routes, problems = [], []
    changelists = admin_changelists()
    for route in walk():
        if "format" in route.kwarg_names:
            continue  # DRF's .json suffix variants of routes walked anyway
        if route.pattern.startswith("admin/"):
            if route.name == "admin:index" or route.name in changelists:
                routes.append(route)
            continue
        if not route.name:
            problems.append(f"URL pattern {route.pattern!r} has no name: give it one so it can be walked")
            continue
        routes.append(route)
    return routes, problems


def fill_kwargs(route: Route):
    """The URL's kwargs from demo data, or a message saying what to add."""
    if not route.kwarg_names:
        return {}, None
    if route.name in SAMPLE_KWARGS:
        return SAMPLE_KWARGS[route.name](), None
    model = route.model()
    names = set(route.kwarg_names)
    hint = f"add a sample for URL {route.name} ({route.pattern}) to SAMPLE_KWARGS in tests/test_url_walk.py"
    if model is None:
        return None, f"{hint}, or give its view a `model` or `queryset` attribute"
    field_names = {f.name for f in model._meta.get_fields()}
    parents = {name for name in names if name.removesuffix("_pk") in field_names and name.endswith("_pk")}
    if "pk" in names and names - {"pk"} - parents:
        # e.g. documents/<pk>/versions/<version_pk>/: which argument is the row's own pk?
        return None, f"{hint}: 'pk' together with {sorted(names - {'pk'})} is ambiguous"
    obj = model._default_manager.order_by("pk").first()
    if obj is None:
        return None, f"{hint}: seed_demo created no {model.__name__} (add demo data or a sample)"
    kwargs = {}
    for name in route.kwarg_names:
        base = name.removesuffix("_pk").removesuffix("_id")
        if name in ("pk", "id"):
            kwargs[name] = obj.pk
        elif name in field_names:
            kwargs[name] = getattr(obj, name)
        elif base in field_names and model._meta.get_field(base).is_relation:
            kwargs[name] = getattr(obj, f"{base}_id")
        else:
            return None, f"{hint}: {model.__name__} has no field for the argument {name!r}"
    return kwargs, None


@pytest.fixture
def walk_setup(db):
    """Demo data of every app, and one user per persona: the demo users for the roles they
    cover (their records point at them), plus an Administrator without superuser and an
    outsider with no role."""
    from django.contrib.auth import get_user_model

    from tests.conftest import make_user
    from tests.kernel_app.services import specimen_create

    started = time.monotonic()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    print(f"seed_demo took {time.monotonic() - started:.1f}s")
    users = {name: get_user_model().objects.get(username=name) for name in ("staff", "manager", "auditor", "employee")}
    users["administrator"] = make_user("administrator", qms_roles.ADMINISTRATOR)
    users["outsider"] = make_user("outsider")
    specimen_create(actor=users["staff"], title="Walked", summary="s")
    clients = {"anonymous": Client(raise_request_exception=False)}
    for name in PERSONAS:
        clients[name] = Client(raise_request_exception=False)
        clients[name].force_login(users[name])
    routes, problems = routes_to_walk()
    urls = {}
    for route in routes:
        kwargs, problem = fill_kwargs(route)
        if problem:
            problems.append(problem)
            continue
        urls[route.name] = reverse(route.name, kwargs=kwargs)
    return routes, urls, clients, users, problems


def expected_for(route: Route, persona: str, user) -> set[int]:
    """Acceptable GET statuses for a logged-in persona."""
    if route.is_admin:
        if not user.is_staff:
            return {302}  # to the admin log-in
        if route.name == "admin:index":
            return {200}
        app_model = route.name.removeprefix("admin:").removesuffix("_changelist")
        model = next(m for m in admin_site._registry if f"{m._meta.app_label}_{m._meta.model_name}" == app_model)
        opts = model._meta
        may_view = user.has_perm(f"{opts.app_label}.view_{opts.model_name}") or user.has_perm(
            f"{opts.app_label}.change_{opts.model_name}"
        )
        return {200} if may_view else {403}
    if not route.login_required and not route.is_api:
        return {200, 302, 405}  # public pages (customer forms) may redirect to their next step
    roles = route.read_roles()
    if roles is not None and not (qms_roles.roles_of(user) & roles):
        return {403}
    if not route.answers_get():
        return {405}
    wanted = {EXPECTED_GET.get(route.name, 200)}
    if (route.name, persona) in MAY_BE_HIDDEN:
        wanted.add(404)
    return wanted


def test_every_url_and_endpoint_answers_each_role_as_it_should(walk_setup):
    routes, urls, clients, personas, problems = walk_setup
    assert len(routes) >= 10, "the resolver walk found suspiciously few URLs"
    failures = list(problems)
    walked = 0
    timings = []
    for route in routes:
        started = time.monotonic()
        url = urls.get(route.name)
        if url is None:
            continue
        walked += 1

        # Anonymous.
        response = clients["anonymous"].get(url)
        status = response.status_code
        if status >= 500:
            failures.append(f"anonymous GET {url} ({route.name}) -> {status}")
        elif route.is_api:
            if not route.is_public_api() and status not in (401, 403):
                failures.append(f"anonymous GET {url} ({route.name}) -> {status}, expected 401/403")
        elif route.login_required:
            location = response.get("Location", "")
            if status != 302 or not (location.startswith(LOGIN_URL) or location.startswith(ADMIN_LOGIN_URL)):
                failures.append(f"anonymous GET {url} ({route.name}) -> {status} {location}, expected a redirect to log in")
        elif status not in (200, 302, 405):
            failures.append(f"anonymous GET public {url} ({route.name}) -> {status}")

        # Each role. A slow URL (a schema, a PDF export) is checked once per distinct
        # expected answer instead of once per role, to keep the walk fast as it grows.
        seen_expectations = set()
        for persona in PERSONAS:
            wanted = expected_for(route, persona, personas[persona])
            if time.monotonic() - started > SLOW_URL_SECONDS and frozenset(wanted) in seen_expectations:
                continue
            seen_expectations.add(frozenset(wanted))
            response = clients[persona].get(url)
            if response.status_code not in wanted:
                failures.append(
                    f"{persona} GET {url} ({route.name}) -> {response.status_code}, expected {sorted(wanted)}"
                )

        # The Auditor writes nothing. (Admin writes are add/change/delete URLs, covered by
        # tests/qms/test_auditor_read_only.py; a POST to a changelist only re-renders it.)
        if route.name not in AUDITOR_MAY_POST and not route.is_admin and route.login_required:
            response = clients["auditor"].post(url, {})
            if response.status_code not in (403, 405):
                failures.append(f"auditor POST {url} ({route.name}) -> {response.status_code}, expected 403/405")
        timings.append((time.monotonic() - started, route.name))

    slowest = ", ".join(f"{name} {seconds:.2f}s" for seconds, name in sorted(timings, reverse=True)[:5])
    print(f"walked {walked} URLs in {sum(t for t, _ in timings):.1f}s; slowest: {slowest}")

    assert not failures, f"{len(failures)} problem(s) in {walked} URLs:\n" + "\n".join(failures)
