"""`Authorization: Token <key>` against qms.models.ApiToken (hashed, expiring, revocable;
issue 16 item 7). DRF's TokenAuthentication supplies the header parsing and the
`WWW-Authenticate: Token` challenge that makes anonymous callers get 401 (docs/api.md)."""

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from qms.input import text_is_clean
from qms.tokens import api_token_user


class ApiTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        if not text_is_clean(key) or len(key) > 200:
            raise exceptions.AuthenticationFailed("Invalid token.")
        user, token_or_reason = api_token_user(key)
        if user is None:
            raise exceptions.AuthenticationFailed(token_or_reason)
        return user, token_or_reason
