"""Existing DRF tokens (plaintext keys in authtoken_token) become hashed ApiTokens that expire
QMS_API_TOKEN_DAYS from now, so integrations keep working; the plaintext rows are removed.
Reverse: nothing to undo (a hash cannot give the key back); the ApiTokens are kept."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def hash_drf_tokens(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("qms", "ApiToken")
    now = timezone.now()
    expires_at = now + timedelta(days=settings.QMS_API_TOKEN_DAYS)
    for token in Token.objects.all().iterator():
        ApiToken.objects.get_or_create(
            key_hash=hashlib.sha256(token.key.encode()).hexdigest(),
            defaults={
                "user_id": token.user_id,
                "name": "Token issued before hashing",
                "key_prefix": token.key[:8],
                "created_at": token.created or now,
                "expires_at": max(expires_at, (token.created or now) + timedelta(seconds=1)),
            },
        )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("qms", "0009_api_token"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(hash_drf_tokens, migrations.RunPython.noop)]
