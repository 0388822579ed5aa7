"""Free-text search of the complaint list over the complaint's text (issue 18 item 7)."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_word_only_in_the_description_finds_the_complaint_on_the_page_and_the_api(client_for, api_for, staff, make_complaint):
    # given: the word "occlusion" is in one complaint's description, in no title
    wanted = make_complaint(title="Pump alarm silent", description="The occlusion alarm stayed silent during a bench test.")
    make_complaint(title="Label misprinted", description="The batch label shows the wrong expiry date.")
    # when: the list is searched for it
    page = client_for(staff).get("/complaints/?search=occlusion")
    api = api_for(staff).get("/api/v1/complaints/?search=occlusion")
    # then: that complaint, and only it, is found
    assert page.status_code == 200 and [c.pk for c in page.context["complaints"]] == [wanted.pk]
    assert [c["id"] for c in api.json()["results"]] == [wanted.pk]
