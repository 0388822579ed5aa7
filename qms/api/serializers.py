from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import serializers

from qms.models import ApiToken
from qms.roles import roles_of


class UserSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "full_name", "email", "roles"]

    def get_roles(self, user) -> list[str]:
        return sorted(roles_of(user))


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class ApiTokenSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    revoked_by = serializers.CharField(source="revoked_by.username", read_only=True, allow_null=True, default=None)
    status = serializers.SerializerMethodField()
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "user", "key_prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "revoked_by", "status"]
        read_only_fields = ["key_prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]

    def get_status(self, token) -> str:
        return token.status_at(timezone.now())


class IssuedApiTokenSerializer(ApiTokenSerializer):
    """The answer that issues a token: the only one that holds its key."""

    key = serializers.CharField(read_only=True)

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
