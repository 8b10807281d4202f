"""The list helpers of actors.listing: quick <select>s render Django's HTML, and a list
ordered by group pages exactly like the sorted queryset."""

import re

import pytest
from django.test import RequestFactory

from actors.filtersets import OrganisationFilterSet
from actors.listing import OrderedByGroup, QuickSelectWidget, quick_selects
from actors.models import Municipality, Organisation, OrganisationType
from tests.factories import OrganisationFactory


def _squeeze(html: str) -> str:
    """Without the whitespace between tags, and the <select>'s attributes in name order."""
    html = re.sub(r">\s+<", "><", html).strip()
    tag, rest = html.split(">", 1)
    name, *attributes = re.findall(r'[\w-]+(?:="[^"]*")?', tag[len("<select") :])
    return f"<select {' '.join([name, *sorted(attributes)])}>{rest}"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "type=fastlegekontor&county=46&municipality=4601&is_active=true&ordering=-municipality",
        "is_active=false&health_trust=helse-bergen",
        "municipality=9999&is_active=unknown",
    ],
)
def test_quick_selects_render_the_same_html_as_django(make_user, query):
    request = RequestFactory().get(f"/?{query}")
    request.user = make_user("coord_nat")

    def form():
        return OrganisationFilterSet(
            request.GET, queryset=Organisation.objects.all(), request=request
        ).form

    plain, quick = form(), quick_selects(form())
    selects = [name for name in plain.fields if "<select" in str(plain[name])]
    assert {"type", "county", "municipality", "is_active", "ordering"} <= set(selects)
    for name in selects:
        assert _squeeze(str(quick[name])) == _squeeze(str(plain[name])), name
    if "municipality=4601" in query:
        assert '<option value="4601" selected>' in str(quick["municipality"])


def test_quick_select_widget_groups_and_escapes():
    widget = QuickSelectWidget(choices=[("A & B", [("a", "<a>"), ("b", "B")]), ("c", "C")])
    assert widget.render("x", "b", {"id": "x"}) == (
        '<select name="x" id="x"><optgroup label="A &amp; B"><option value="a">&lt;a&gt;</option>'
        '<option value="b" selected>B</option></optgroup><option value="c">C</option></select>'
    )


@pytest.mark.django_db
def test_ordered_by_group_pages_like_the_sorted_queryset():
    types = list(OrganisationType.objects.order_by("sort_order")[:3])
    numbers = ["4601", "5501", "1103", "4621", "4624", "4626"]  # each in one area
    places = list(Municipality.objects.current().filter(number__in=numbers))
    for i in range(60):
        OrganisationFactory(
            municipality=places[i % 6], type=types[i % 3], name=f"Org {i % 7}", is_active=True
        )
    rows = Organisation.objects.filter(municipality__in=places)
    for ordering in (
        ("municipality__name", "type__sort_order", "name", "pk"),
        ("-municipality__name", "-name", "pk"),
    ):
        listed = OrderedByGroup(rows, ordering)
        expected = list(rows.order_by(*ordering))
        assert listed.count() == len(listed) == 60
        for start, stop in ((0, 7), (5, 23), (20, 60), (59, 80), (60, 70)):
            assert listed[start:stop] == expected[start:stop], (ordering, start, stop)
