from django.contrib.auth import SESSION_KEY
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpResponseBadRequest, JsonResponse
from rest_framework.views import APIView

from qms.input import text_is_clean, urlencoded_is_utf8


class QmsLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware for pages; API views authenticate themselves (session or
    token) and answer 401/403 instead of a redirect, with IsAuthenticated as the default."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None)
        if view_class is not None and issubclass(view_class, APIView):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class EndInactiveSessionsMiddleware:
    """A session whose user was deactivated (or removed) is ended at its next request, not
    merely ignored while the user is inactive: reactivating the user later does not bring it
    back (issue 16 item 7). Django's backend already refuses the inactive user; this flushes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session and not request.user.is_authenticated:
            session.flush()
        return self.get_response(request)


class CleanTextInputMiddleware:
    """Refuses, with a 400, a path, a query string or a page's form whose text holds a NUL character or
    a lone surrogate, or whose bytes are not UTF-8 (issue 20 item 3). API bodies are checked by
    the API's parsers (qms.api.parsers); query strings are checked here for pages and API alike,
    before any filter or search reaches the database."""

    message = "Text may not contain NUL characters or invalid UTF-8."

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self._is_clean(request):
            return self._refuse(request)
        return self.get_response(request)

    def _is_clean(self, request) -> bool:
        if not text_is_clean(request.path_info):
            return False  # (bytes that are not UTF-8 stay %-escaped in path_info: Django re-quotes them)
        if not urlencoded_is_utf8(request.META.get("QUERY_STRING", "")) or not _querydict_is_clean(request.GET):
            return False
        if request.path.startswith("/api/") or request.method not in {"POST", "PUT", "PATCH"}:
            return True
        content_type = request.content_type or ""
        if content_type == "application/x-www-form-urlencoded" and not urlencoded_is_utf8(request.body):
            return False
        if content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            return _querydict_is_clean(request.POST)
        return True

    def _refuse(self, request):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": self.message}, status=400)
        return HttpResponseBadRequest(self.message, content_type="text/plain; charset=utf-8")


def _querydict_is_clean(data) -> bool:
    return all(text_is_clean(key) and all(text_is_clean(v) for v in values) for key, values in data.lists())
