"""The complaint list's rows and filter options are written in Python for speed
(complaints/templatetags/complaint_tags.py, complaints/filters.py); they must say exactly what
Django's own formatting and the models' __str__ say."""

import datetime
import zoneinfo

import pytest
from django.utils import dateformat, timezone, translation

from complaints.filters import ComplaintFilter
from complaints.models import Category, Product
from complaints.templatetags import complaint_tags
from qms import roles as qms_roles
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

MOMENTS = [
    datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.UTC),  # GMT, single-digit day, midnight
    datetime.datetime(2026, 3, 29, 0, 59, tzinfo=datetime.UTC),  # the hour before BST starts
    datetime.datetime(2026, 3, 29, 1, 0, tzinfo=datetime.UTC),  # BST
    datetime.datetime(2026, 7, 14, 23, 30, tzinfo=datetime.UTC),  # next local day in BST
    datetime.datetime(2026, 10, 25, 1, 30, tzinfo=datetime.UTC),  # back to GMT
    datetime.datetime(2026, 12, 31, 23, 59, 59, tzinfo=datetime.UTC),
    datetime.datetime(2031, 5, 9, 8, 5, tzinfo=zoneinfo.ZoneInfo("America/New_York")),
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_row_dates_read_as_djangos_date_formats(moment):
    local = timezone.localtime(moment)
    assert complaint_tags._local(moment) == dateformat.format(local, "j M Y, H:i")
    assert complaint_tags._local(moment, year=False) == dateformat.format(local, "j M, H:i")
    assert complaint_tags._local(moment, zone=True) == dateformat.format(local, "j M Y, H:i T")


def test_month_names_follow_the_active_language():
    moment = datetime.datetime(2026, 5, 4, 12, 0, tzinfo=datetime.UTC)
    with translation.override("de"):
        assert complaint_tags._local(moment) == dateformat.format(timezone.localtime(moment), "j M Y, H:i")
        assert "Mai" in complaint_tags._local(moment)
    assert "May" in complaint_tags._local(moment)


def test_rows_link_each_complaint_page(client_for, manager, make_complaint):
    complaints = [make_complaint(title=f"Seal leak {i}") for i in range(3)]
    html = client_for(manager).get("/complaints/").content.decode()
    for complaint in complaints:
        assert f'<a href="{complaint.get_absolute_url()}"><strong>{complaint.reference}</strong></a>' in html


def renamed(user, first_name, last_name):
    user.first_name, user.last_name = first_name, last_name
    user.save(update_fields=["first_name", "last_name"])
    return user


def test_filter_options_are_labelled_as_the_models_name_themselves():
    Product.objects.create(code="INF-200", name="Infusion pump")
    Product.objects.create(code="<b>X</b>", name="Pump & \"tubing\"")
    Category.objects.get_or_create(name="Product defect")
    named = renamed(make_user("named", qms_roles.STAFF), "Ann", "Lee")
    first_only = renamed(make_user("first_only", qms_roles.MANAGER), "Bo", "")
    nameless = renamed(make_user("nameless", qms_roles.STAFF), "", "")
    renamed(make_user("employee_only", qms_roles.EMPLOYEE), "Not", "Quality")
    form = ComplaintFilter({}).form
    for name, queryset in (("product", Product.objects.all()), ("category", Category.objects.all())):
        options = [(str(value), label) for value, label in form.fields[name].choices][1:]
        assert options == [(str(obj.pk), str(obj)) for obj in queryset]
    people = {str(value): label for value, label in form.fields["assignee"].choices}
    assert people[str(named.pk)] == str(named) == "Ann Lee"
    assert people[str(first_only.pk)] == str(first_only) == "Bo"
    assert people[str(nameless.pk)] == str(nameless) == "nameless"
    assert "Not Quality" not in people.values()
    # The labels are escaped where the select is written.
    html = str(form["product"])
    assert "&lt;b&gt;X&lt;/b&gt; Pump &amp; &quot;tubing&quot;" in html and "<b>X</b>" not in html
