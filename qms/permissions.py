"""One permission check for pages and the API (docs/architecture.md rule 7).

A view declares `read_roles` (GET, HEAD) and `write_roles` (everything else). Auditors are
refused every write whatever else they hold. A refusal is recorded as a security event.
"""

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from rest_framework import permissions as drf_permissions

from qms import roles as qms_roles
from qms.models import SecurityEvent

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def may(user, *, read_roles, write_roles, method: str) -> bool:
    if method in SAFE_METHODS:
        return qms_roles.has_role(user, *read_roles)
    return qms_roles.has_role(user, *write_roles) and not qms_roles.is_read_only(user)


def record_denied(request, detail: str = "") -> None:
    from qms.security_events import record_event

    user = request.user if request.user.is_authenticated else None
    record_event(SecurityEvent.Kind.PERMISSION_DENIED, request=request, user=user, detail=detail or request.method)


class RoleRequiredMixin(AccessMixin):
    """For class-based pages. Anonymous users are sent to the login page by
    LoginRequiredMiddleware before they get here."""

    read_roles: frozenset[str] = qms_roles.READERS
    write_roles: frozenset[str] = qms_roles.QUALITY

    def dispatch(self, request, *args, **kwargs):
        if not may(request.user, read_roles=self.read_roles, write_roles=self.write_roles, method=request.method):
            record_denied(request)
            raise PermissionDenied("Your role does not allow this.")
        return super().dispatch(request, *args, **kwargs)


class RolePermission(drf_permissions.BasePermission):
    """For API views: the same read_roles / write_roles attributes as the pages."""

    message = "Your role does not allow this."

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        allowed = may(
            request.user,
            read_roles=getattr(view, "read_roles", qms_roles.READERS),
            write_roles=getattr(view, "write_roles", qms_roles.QUALITY),
            method=request.method,
        )
        if not allowed:
            record_denied(request)
        return allowed
