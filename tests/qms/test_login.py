from django.urls import reverse

from tests.conftest import PASSWORD


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_shows_my_work_with_role_navigation(client, manager):
    response = client.post(reverse("login"), {"username": "manager", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert b"My work" in response.content
    assert b"Quality Manager" in response.content
