"""The API's parsers (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]): DRF's, with the limits of
qms.input, so that every endpoint refuses deep JSON, NUL characters and bytes that are not
UTF-8 with a 400 (issue 20 item 3) without a line in any view."""

from django.http import QueryDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from qms.input import HostileInput, loads_bounded, text_is_clean, urlencoded_is_utf8


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(f"JSON parse error - the body is not valid {encoding}.") from None
        parse_constant = parsers.json.strict_constant if self.strict else None
        try:
            return loads_bounded(text, parse_constant=parse_constant)
        except HostileInput as exc:
            raise ParseError(str(exc)) from None


def _check_form(data: QueryDict) -> None:
    for key, values in data.lists():
        for value in [key, *values]:
            if isinstance(value, str) and not text_is_clean(value):
                raise ParseError("Text may not contain NUL characters or invalid Unicode.")


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        encoding = parsers.get_encoding(parser_context or {})
        if encoding.lower().replace("-", "") == "utf8" and not urlencoded_is_utf8(raw):
            raise ParseError("The form is not valid UTF-8.")
        data = QueryDict(raw, encoding=encoding)
        _check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_form(result.data)
        return result
