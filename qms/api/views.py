from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from qms import roles as qms_roles
from qms.api.serializers import (
    ApiTokenSerializer,
    IssuedApiTokenSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UserSerializer,
)
from qms.models import ApiToken, SecurityEvent
from qms.security_events import record_event
from qms.tokens import api_token_issue, api_token_revoke


class TokenThrottle(AnonRateThrottle):
    rate = "30/min"


class ObtainTokenView(APIView):
    """`POST /api/v1/auth/token/` with username and password answers a token. Failures go
    through django-axes (they count towards the lock-out) and are recorded."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer}, auth=[])
    def post(self, request):
        incoming = TokenRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        django_request = request._request
        django_request.qms_auth_purpose = "token"
        user = authenticate(
            request=django_request,
            username=incoming.validated_data["username"],
            password=incoming.validated_data["password"],
        )
        if user is None or not user.is_active:
            record_event(SecurityEvent.Kind.TOKEN_FAILED, request=django_request, username=incoming.validated_data["username"])
            return Response({"detail": "Unable to log in with these credentials."}, status=status.HTTP_400_BAD_REQUEST)
        token, key = api_token_issue(user=user, name="Obtained with a password", request=django_request)
        return Response({"token": key, "expires_at": serializers.DateTimeField().to_representation(token.expires_at)})


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """`auth/tokens/`: the caller's API tokens (an administrator sees everyone's, `?user=<id>`
    narrows); POST issues a named token and answers its key once; `POST {id}/revoke/` revokes
    (owner or administrator). Tokens are never deleted (issue 16 item 7)."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.all()  # narrowed per caller in get_queryset
    filter_backends = []

    def get_queryset(self):
        tokens = ApiToken.objects.select_related("user", "revoked_by").order_by("-created_at", "-id")
        if not qms_roles.has_role(self.request.user, qms_roles.ADMINISTRATOR):
            return tokens.filter(user=self.request.user)
        user_id = self.request.query_params.get("user", "")
        if user_id:
            if not user_id.isdigit() or len(user_id) > 18:
                raise serializers.ValidationError({"user": ["A user id."]})
            tokens = tokens.filter(user_id=int(user_id))
        return tokens

    @extend_schema(responses={201: IssuedApiTokenSerializer})
    def create(self, request, *args, **kwargs):
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        token, key = api_token_issue(user=request.user, name=incoming.validated_data.get("name", ""), request=request._request)
        token.key = key
        return Response(IssuedApiTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiTokenSerializer, summary="Revoke the token")
    @action(detail=True, methods=["post"], url_path="revoke")
    def revoke(self, request, pk=None):
        token = api_token_revoke(self.get_object(), actor=request.user, request=request._request)
        return Response(self.get_serializer(ApiToken.objects.select_related("user", "revoked_by").get(pk=token.pk)).data)
