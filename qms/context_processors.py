from django.urls import NoReverseMatch, reverse

from qms import roles as qms_roles

# (label, url name, roles that see it). Links whose page does not exist yet are left out.
NAVIGATION = (
    ("My work", "home", qms_roles.EVERYONE),
    ("Complaints", "complaints:list", qms_roles.READERS),
    ("CAPA", "capa:list", qms_roles.READERS),
    ("Documents", "documents:list", qms_roles.EVERYONE),
    ("Training", "training:my", qms_roles.EVERYONE),
    ("Training matrix", "training:matrix", qms_roles.READERS),
    ("Service quality", "service_quality:home", qms_roles.READERS),
    ("Dashboard", "metrics:dashboard", frozenset({qms_roles.MANAGER, qms_roles.AUDITOR, qms_roles.STAFF})),
    ("Audit trail", "audit-trail", frozenset({qms_roles.AUDITOR, qms_roles.MANAGER, qms_roles.ADMINISTRATOR})),
    ("Administration", "admin:index", qms_roles.ADMIN_SITE_ROLES),
)


def unread_count(user) -> int:
    """The topbar's unread counter: the session user arrives with it (qms.auth.RoleModelBackend);
    a user loaded otherwise (an API token) is counted."""
    if hasattr(user, "unread_notifications"):
        return user.unread_notifications or 0
    return user.notifications.filter(read_at__isnull=True).count()


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    user_roles = qms_roles.roles_of(user)
    items = []
    for label, url_name, allowed in NAVIGATION:
        if not user_roles & allowed:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return {
        "nav_items": items,
        "user_roles": sorted(user_roles),
        "is_read_only": qms_roles.is_read_only(user),
        "unread_notifications": unread_count(user),
    }
