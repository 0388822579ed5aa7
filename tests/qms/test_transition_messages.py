"""A workflow button says what happened in words (issue 18 item 8): "SPC-1 is now in review.",
not "submit done"; a refused one says why and changes nothing."""

import pytest
from django.urls import reverse

from tests.kernel_app.models import Specimen
from tests.kernel_app.services import specimen_create

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_done_transition_names_the_new_state(client_for, staff):
    specimen = specimen_create(actor=staff, title="Label printer", summary="IQ done")
    url = reverse("kernel_app:transition", args=[specimen.pk])
    response = client_for(staff).post(url, {"action": "submit", "reason": ""}, follow=True)
    (message,) = messages_of(response)
    assert message == f"{specimen} is now in review."
    assert "done" not in message


def test_a_refused_transition_says_why_and_changes_nothing(client_for, staff):
    specimen = specimen_create(actor=staff, title="Label printer", summary="IQ done")
    url = reverse("kernel_app:transition", args=[specimen.pk])
    response = client_for(staff).post(url, {"action": "approve<script>", "reason": ""}, follow=True)
    (message,) = messages_of(response)
    assert (
        "is now" not in message
        and "<script>" not in response.content.decode().split("<main>")[1].split("</main>")[0]
    )
    assert Specimen.objects.get(pk=specimen.pk).status == "draft"
