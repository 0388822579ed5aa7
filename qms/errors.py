"""The kernel's domain errors. Services raise them; views turn them into messages, the API
into 400, 403 or 409 (qms/api/errors.py)."""


class DomainError(Exception):
    """A rule of the domain refused the request. Nothing was changed."""

    status_code = 400

    def __init__(self, message: str = "", *, field_errors: dict[str, list[str]] | None = None):
        self.message = message or "The request was refused."
        self.field_errors = field_errors or {}
        super().__init__(self.message)

    def as_api_data(self) -> dict:
        if self.field_errors:
            return self.field_errors
        return {"detail": self.message}


class ValidationFailed(DomainError):
    """Bad or missing input (400 with field messages)."""

    @classmethod
    def on(cls, field: str, message: str) -> "ValidationFailed":
        return cls(message, field_errors={field: [message]})


class IllegalTransition(DomainError):
    """The action is not allowed from the record's current state, or its guard failed (409)."""

    status_code = 409


class StaleVersion(DomainError):
    """Someone else saved the record after it was read (409)."""

    status_code = 409


class NotAllowed(DomainError):
    """The actor's roles do not allow this action (403)."""

    status_code = 403


class SignatureRejected(DomainError):
    """The signer's password did not match, or the signer is locked out (403)."""

    status_code = 403
