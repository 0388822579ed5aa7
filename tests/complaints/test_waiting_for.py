"""The complaint page says who must act next (issue 18 item 3)."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_complaint_page_says_who_must_act_next(complaint, staff, client_for):
    page = client_for(staff).get(complaint.get_absolute_url()).content.decode()
    if complaint.assignee_id:
        assert (
            f"Waiting for:</strong> {complaint.assignee.full_name} — acknowledge the complaint"
            in page
        )
    else:
        assert (
            "Waiting for:</strong> a Quality Manager — assign someone to acknowledge the complaint"
            in page
        )
