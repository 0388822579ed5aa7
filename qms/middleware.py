from django.contrib.auth.middleware import LoginRequiredMiddleware
from rest_framework.views import APIView


class QmsLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware for pages; API views authenticate themselves (session or
    token) and answer 401/403 instead of a redirect, with IsAuthenticated as the default."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None)
        if view_class is not None and issubclass(view_class, APIView):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
