"""Turn domain errors into the API's answers (docs/api.md "Errors"): 400 with field messages,
403, 409 for an illegal transition or a stale version; never a 500 for bad input."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from qms.errors import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_api_data(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        data = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out account (AXES_LOCKOUT_CALLABLE): JSON under /api/
    (docs/api.md: errors are JSON), the locked-out page everywhere else."""
    from django.conf import settings
    from django.http import JsonResponse
    from django.shortcuts import render

    status_code = settings.AXES_HTTP_RESPONSE_CODE
    message = "Too many failed attempts: this account is locked for a while. Try again later or ask an administrator."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status_code)
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, {"detail": message}, status=status_code)
