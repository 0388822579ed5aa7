"""The authentication backend: Django's ModelBackend, loading a session's user with the names
of their roles and their unread notifications count in the same query (two queries less on
every page: qms.roles.roles_of and the topbar's counter read them from the user)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Subquery

from qms import roles
from qms.models import Notification


class RoleModelBackend(ModelBackend):
    def get_user(self, user_id):
        users = get_user_model()._default_manager.annotate(
            unread_notifications=Subquery(
                Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
                .order_by()
                .values("recipient")
                .annotate(n=Count("pk"))
                .values("n"),
                output_field=IntegerField(),
            )
        )
        if connection.vendor == "postgresql":
            from django.contrib.postgres.expressions import ArraySubquery

            users = users.annotate(
                role_names=ArraySubquery(Group.objects.filter(user=OuterRef("pk")).values("name"))
            )
        user = users.filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        if hasattr(user, "role_names"):
            roles.remember_roles(user, user.role_names)
        return user
