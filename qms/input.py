"""Guards against hostile input, shared by the API's parsers, the middleware and form fields
(issue 20 item 3; docs/architecture.md rule 5: bad input answers 400, never 500).

- JSON nested deeper than JSON_MAX_DEPTH is refused: Python's decoder recurses once per level
  and a body of a few kilobytes of brackets exhausts the interpreter's stack.
- No text may hold a NUL character or a lone UTF-16 surrogate: PostgreSQL refuses NUL in text
  and jsonb, and a surrogate cannot be encoded as UTF-8, so both would fail at the database.
- Bytes that are not UTF-8 are refused instead of being silently replaced by U+FFFD.
"""

import json
import re
from urllib.parse import unquote_to_bytes

from django import forms
from django.core.exceptions import ValidationError

from qms.errors import ValidationFailed

JSON_MAX_DEPTH = 32

# NUL, and the surrogate range that only a JSON "\udXXX" escape can put into a Python str.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class HostileInput(ValueError):
    """The input is refused; the message says why in words a caller can act on."""


def text_is_clean(value: str) -> bool:
    return _BAD_TEXT.search(value) is None


def urlencoded_is_utf8(raw: bytes | str) -> bool:
    """True when a query string or form body decodes to UTF-8 once its %XX escapes are undone
    (Django would quietly put U+FFFD in place of the bad bytes)."""
    if isinstance(raw, str):
        try:
            raw = raw.encode("latin-1")  # WSGI hands the query string over as latin-1 text
        except UnicodeEncodeError:
            raw = raw.encode("utf-8", errors="surrogatepass")
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_json_value(value, *, max_depth: int = JSON_MAX_DEPTH) -> None:
    """Walk a decoded JSON value without recursion; HostileInput when it nests deeper than
    max_depth or any key or string holds a NUL or a lone surrogate."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not text_is_clean(item):
                raise HostileInput("Text may not contain NUL characters or invalid Unicode.")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            raise HostileInput(f"JSON nested deeper than {max_depth} levels is not accepted.")
        if isinstance(item, dict):
            for key, child in item.items():
                if not text_is_clean(key):
                    raise HostileInput("Text may not contain NUL characters or invalid Unicode.")
                stack.append((child, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in item)


def loads_bounded(text: str | bytes, *, max_depth: int = JSON_MAX_DEPTH, **kwargs):
    """json.loads, then check_json_value; every failure is a HostileInput (a ValueError)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HostileInput("The body is not valid UTF-8.") from exc
    try:
        value = json.loads(text, **kwargs)
    except RecursionError as exc:
        raise HostileInput(f"JSON nested deeper than {max_depth} levels is not accepted.") from exc
    except ValueError as exc:
        raise HostileInput(f"JSON parse error - {exc}") from exc
    check_json_value(value, max_depth=max_depth)
    return value


class BoundedJSONField(forms.JSONField):
    """Django's forms.JSONField with the same limits as the API (depth, NUL, surrogates)."""

    def to_python(self, value):
        if isinstance(value, str) and not text_is_clean(value):
            raise ValidationError(
                "Text may not contain NUL characters or invalid Unicode.", code="invalid"
            )
        try:
            value = super().to_python(value)
            check_json_value(value)
        except RecursionError as exc:
            raise ValidationError(
                f"JSON nested deeper than {JSON_MAX_DEPTH} levels is not accepted.", code="invalid"
            ) from exc
        except HostileInput as exc:
            raise ValidationError(str(exc), code="invalid") from exc
        return value

    def bound_data(self, data, initial):
        # Redisplay refused input as the text that was typed, never re-encoded (json.dumps of a
        # deep value recurses as much as the decoder did).
        if self.disabled or data is None:
            return super().bound_data(data, initial)
        try:
            value = super().bound_data(data, initial)
            check_json_value(value)
        except (RecursionError, HostileInput):
            return forms.fields.InvalidJSONInput(data)
        return value


def service_text(
    value,
    field: str,
    *,
    required: bool = False,
    max_length: int,
    not_text: str = "Enter text.",
    too_long: str = "Keep this under {max_length} characters.",
) -> str:
    """A text argument of a service, stripped: None is "", anything but a str is refused, and so
    are a missing required text and one over `max_length` (ValidationFailed on `field`, a 400).
    Shared by the services of capa, metrics and service quality (issue 21: they held one copy each)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed.on(field, not_text)
    value = value.strip()
    if required and not value:
        raise ValidationFailed.on(field, "This field is required.")
    if len(value) > max_length:
        raise ValidationFailed.on(field, too_long.format(max_length=max_length))
    return value
