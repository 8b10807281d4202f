"""Issue 15, point 6: a future structure change as an operation (actors/structure_changes.py,
the page at /struktur/endringer/, `manage.py structure_changes`), with the agreements'
part in benefits/structure_hooks.py."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from actors import structure_changes
from actors.choices import Role, Source
from actors.models import (
    Catchment,
    Municipality,
    MunicipalityVersion,
    OrganisationChange,
    OrganisationVersion,
    StructureChange,
    User,
)
from actors.scoping import SYSTEM_USER
from actors.structure import StructureOn
from benefits import services as benefit_services
from benefits.choices import AgreementStatus
from benefits.models import AgreementChange
from tests.conftest import client_for
from tests.factories import OrganisationFactory, UserFactory

D = datetime.date
DAY = D(2028, 1, 1)
BEFORE = D(2027, 12, 31)
CHANGES = """old_kommunenummer,old_navn,new_kommunenummer,new_navn,change,andel
3101,Halden,3199,Halden,renumbered,
1508,Ålesund,1508,Ålesund,split,0.7
1508,Ålesund,1599,Nyby,split,0.3
1811,Bindal,1812,Sømna,merged,
1812,Sømna,1812,Sømna,merged,
"""


def m(number: str) -> Municipality:
    return Municipality.objects.get(number=number)


def agreement(title, numbers, status=AgreementStatus.SIGNED):
    return benefit_services.agreement_save(
        user=SYSTEM_USER,
        agreement_id=None,
        expected_version=None,
        fields={
            "title": title,
            "status": status,
            "signed_date": D(2025, 3, 1),
            "ended_date": D(2026, 1, 1) if status == AgreementStatus.ENDED else None,
        },
        municipalities=Municipality.objects.filter(number__in=numbers),
        organisations=[],
        solutions=[],
    )


@pytest.fixture
def scene(db, make_user):
    contact = {"role": Role.MUNICIPALITY_CONTACT}
    return {
        "admin": make_user("admin"),
        "stays": UserFactory(username="kari", municipalities=["1508"], **contact),
        "follows": UserFactory(username="ola", municipalities=["1508", "4601"], **contact),
        "bindal": UserFactory(username="per", municipalities=["1811"], **contact),
        "aalesund_orgs": [
            OrganisationFactory(municipality=m("1508"), name="Ålesund legesenter"),
            OrganisationFactory(municipality=m("1508"), name="Brattvåg sykehjem"),
        ],
        "bindal_org": OrganisationFactory(municipality=m("1811"), name="Bindal legekontor"),
        "halden_org": OrganisationFactory(municipality=m("3101"), name="Halden legesenter"),
        "with_aalesund": agreement("Avtale Ålesund", ["1508"]),
        "with_bindal": agreement("Avtale Bindal og Bergen", ["1811", "4601"]),
        "ended": agreement("Avsluttet Bindal", ["1811"], AgreementStatus.ENDED),
    }


def plan_of(text=CHANGES, effective=DAY):
    return structure_changes.read_plan(
        text.encode(), effective=effective, file_name="endringer-2028.csv"
    )


def counts() -> dict:
    models = (
        Municipality,
        MunicipalityVersion,
        Catchment,
        OrganisationChange,
        OrganisationVersion,
        StructureChange,
        AgreementChange,
        User.municipalities.through,
        Municipality.predecessors.through,
    )
    return {model.__name__: model.objects.count() for model in models}


def test_dry_run_reports_what_moves_and_writes_nothing(scene):
    before = counts()
    plan = plan_of()
    assert plan.ok, plan.errors
    assert [(c.old.number, c.new.number) for c in plan.renamings] == [("3101", "3199")]
    assert plan.unchanged_organisations == 1  # Halden's, under the new number
    (split,) = plan.splits
    assert split.continuing.new.number == "1508"
    assert [(p.number, p.name, p.share) for p in split.parts] == [("1599", "Nyby", Decimal("0.3"))]
    assert [o.name for o in split.organisations] == ["Brattvåg sykehjem", "Ålesund legesenter"]
    assert [u.username for u in split.contacts] == ["kari", "ola"]
    (merge,) = plan.merges
    assert merge.continuing.municipality == m("1812")
    assert merge.merged == [m("1811")]
    assert merge.organisations == [scene["bindal_org"]]
    assert [u.username for u in merge.contacts] == ["per"]
    (section,) = plan.sections  # the agreements, from benefits; the ended one is left alone
    assert [row[0] for row in section.rows] == ["Avtale Bindal og Bergen", "Avtale Ålesund"]
    assert "1599 Nyby" in section.rows[1][2] and "1812 Sømna" in section.rows[0][2]
    assert any("3101 Halden → 3199 Halden" in line for line in plan.lines())
    assert counts() == before
    assert m("3101").versions.latest("valid_from").valid_to is None


def test_apply_writes_the_new_structure_with_history(scene):
    admin, bindal_org = scene["admin"], scene["bindal_org"]
    record = structure_changes.apply(plan_of(), user=admin, choices={scene["follows"].pk: "1599"})
    halden = scene["halden_org"].municipality
    halden.refresh_from_db()
    assert halden.number == "3199"
    assert list(halden.versions.values_list("number", "valid_from", "valid_to"))[-2:] == [
        ("3101", D(2024, 1, 1), BEFORE),
        ("3199", DAY, None),
    ]
    nyby, aalesund, bindal, somna = m("1599"), m("1508"), m("1811"), m("1812")
    assert (nyby.valid_from, list(nyby.predecessors.all())) == (DAY, [aalesund])
    assert nyby.versions.get().number == "1599"
    assert nyby.population == round(aalesund.population * Decimal("0.3"))
    assert list(nyby.health_trusts.all()) == list(aalesund.health_trusts.all())
    assert (aalesund.valid_to, aalesund.versions.latest("valid_from").valid_to) == (None, None)
    assert bindal.valid_to == BEFORE
    assert bindal.versions.latest("valid_from").valid_to == BEFORE
    assert bindal in somna.predecessors.all()
    # Contacts: per choice in the split (default: the part keeping the name), merged follow.
    assert list(scene["stays"].municipalities.all()) == [aalesund]
    assert sorted(scene["follows"].municipalities.values_list("number", flat=True)) == [
        "1599",
        "4601",
    ]
    assert list(scene["bindal"].municipalities.all()) == [somna]
    # Organisations: the split's stay, the merged one moves with its history.
    assert {o.municipality for o in scene["aalesund_orgs"]} == {aalesund}
    bindal_org.refresh_from_db()
    assert bindal_org.municipality == somna
    move = OrganisationChange.objects.get(organisation=bindal_org, field="municipality")
    assert (move.kind, move.source, move.changed_by) == ("move", Source.SYSTEM, admin)
    assert (move.old_value, move.new_value) == ("1811 Bindal", "1812 Sømna")
    assert "01.01.2028" in move.reason and "endringer-2028.csv" in move.reason
    versions = list(
        OrganisationVersion.objects.filter(organisation=bindal_org).values_list(
            "valid_from", "municipality__number"
        )
    )
    assert versions[-1] == (DAY, "1812") and versions[-2][1] == "1811"
    # Agreements: the split keeps the continuing part and adds the new one; the merged is
    # replaced; each with its details in the agreement's history.
    with_aalesund, with_bindal = scene["with_aalesund"], scene["with_bindal"]
    assert set(with_aalesund.municipalities.all()) == {aalesund, nyby}
    assert with_aalesund.changes.first().details == {
        "municipalities": {"added": [nyby.pk], "removed": []}
    }
    assert set(with_bindal.municipalities.all()) == {somna, m("4601")}
    assert with_bindal.changes.first().details == {
        "municipalities": {"added": [somna.pk], "removed": [bindal.pk]}
    }
    assert list(scene["ended"].municipalities.all()) == [bindal]
    assert scene["ended"].changes.count() == 1
    # The record of the operation.
    assert (record.effective_from, record.applied_by, record.file_name) == (
        DAY,
        admin,
        "endringer-2028.csv",
    )
    assert "3199" in record.summary and record.content == CHANGES
    assert StructureChange.objects.get() == record
    # The structure on a day: the old one the day before, the new one from the day.
    old, new = StructureOn(BEFORE), StructureOn(DAY)
    assert len(old) == len(new) == 357
    assert old.places[halden.pk].number == "3101" and new.places[halden.pk].number == "3199"
    assert nyby.pk not in old and nyby.pk in new and new.counted_in(nyby.pk) == nyby.pk
    assert bindal.pk in old and bindal.pk not in new and new.counted_in(bindal.pk) == somna.pk
    assert old.counted_in(nyby.pk) == aalesund.pk


def test_a_plan_checked_before_another_change_was_applied_is_refused(scene):
    first, second = plan_of(), plan_of()
    structure_changes.apply(first, user=scene["admin"])
    with translation.override(None), pytest.raises(ValidationError, match="changed since"):
        structure_changes.apply(second, user=scene["admin"])
    assert StructureChange.objects.count() == 1


def test_load_reference_data_keeps_an_applied_change(scene):
    structure_changes.apply(plan_of(), user=scene["admin"])
    call_command("load_reference_data", verbosity=0)
    assert m("3199") == scene["halden_org"].municipality
    assert m("1811").valid_to == BEFORE and m("1811") in m("1812").predecessors.all()
    assert m("1599").catchments.count() == 1 and m("1599").valid_from == DAY
    assert m("3199").versions.latest("valid_from").valid_from == DAY
    call_command("load_reference_data", "--check", verbosity=0)  # raises when it differs


INVALID = """old_kommunenummer,old_navn,new_kommunenummer,new_navn,change,andel
9998,Nowhere,9998,Nowhere,renamed,
3101,Halden,4601,Halden,renumbered,
1508,Ålesund,1508,Ålesund,split,
1508,Ålesund,1599,Nyby,split,
1811,Bindal,9911,Bindal,renumbered,
1812,Sømma,1812,Sømna,renamed,
"""


def test_invalid_files_are_refused_line_by_line_and_write_nothing(scene):
    before = counts()
    with translation.override(None):
        plan = plan_of(INVALID)
        with pytest.raises(Exception, match="Unknown old number"):
            structure_changes.apply(plan, user=scene["admin"])
    errors = {e.line: e.message for e in plan.errors}
    assert errors[2].startswith("Unknown old number 9998")
    assert errors[3].startswith("New number 4601 is already in use (Bergen)")
    assert "andel" in errors[4]
    assert errors[6].startswith("County 99 (the first two digits of 9911) does not exist")
    assert errors[7].startswith("1812 is Sømna on 31.12.2027, not “Sømma”")
    assert counts() == before
    with translation.override(None):
        late = plan_of(effective=D(2026, 1, 1))
    assert [e.line for e in late.errors] == [0]
    assert "after 01.01.2026, when the latest structure began" in late.errors[0].message
    shares = plan_of(CHANGES.replace(",0.3", ",0.2"))
    assert [e.line for e in shares.errors] == [3]


def test_the_page_is_for_administrators_only(scene, users):
    url = reverse("actors:structure_changes")
    apply_url = reverse("actors:structure_change_apply")
    for kind in ("contact", "coord_nat", "directorate"):
        assert client_for(users[kind]).get(url).status_code == 403
        assert client_for(users[kind]).post(apply_url, {}).status_code == 403
    # Without a role, every page sends one to the no-access page first.
    for answer in (
        client_for(users["norole"]).get(url),
        client_for(users["norole"]).post(apply_url),
    ):
        assert answer.status_code == 302 and answer["Location"] == reverse("no_access")
    assert client_for(scene["stays"]).get(url).status_code == 403  # a kommunekontakt
    assert client_for(None).get(url).status_code == 302  # to the login
    # Staff without the administrator role cannot change the agreements it touches.
    staff = client_for(UserFactory(username="staff", is_staff=True)).get(url)  # and no role
    assert staff.status_code == 302 and staff["Location"] == reverse("no_access")
    staff_coordinator = UserFactory(username="staff2", is_staff=True, role=Role.COORDINATOR)
    assert client_for(staff_coordinator).get(url).status_code == 403
    assert client_for(UserFactory(username="adm", role=Role.ADMIN)).get(url).status_code == 200
    with pytest.raises(PermissionDenied):
        structure_changes.apply(plan_of(), user=scene["stays"])
    assert not StructureChange.objects.exists()


def test_upload_dry_run_then_confirm_applies(scene):
    client = client_for(scene["admin"])
    before = counts()
    upload = SimpleUploadedFile("endringer-2028.csv", CHANGES.encode(), "text/csv")
    page = client.post(
        reverse("actors:structure_changes"), {"file": upload, "effective": "2028-01-01"}
    )
    assert page.status_code == 200
    assert page.templates[0].name == "actors/structure_change_dryrun.html"
    html = page.content.decode()
    for text in ("3199 Halden", "1599 Nyby", "Bindal legekontor", "Brattvåg sykehjem"):
        assert text in html
    assert f'name="contact_{scene["follows"].pk}"' in html
    assert counts() == before
    confirm = page.context["confirm"]
    response = client.post(
        reverse("actors:structure_change_apply"),
        {
            "content": confirm.initial["content"],
            "file_name": "endringer-2028.csv",
            "effective": "2028-01-01",
            f"contact_{scene['stays'].pk}": "all",
            f"contact_{scene['follows'].pk}": "1508",
        },
    )
    assert response.status_code == 302
    record = StructureChange.objects.get()
    assert record.applied_by == scene["admin"]
    assert set(scene["stays"].municipalities.values_list("number", flat=True)) == {"1508", "1599"}
    listing = client.get(reverse("actors:structure_changes")).content.decode()
    assert "endringer-2028.csv" in listing and "01.01.2028" in listing


def test_upload_with_errors_shows_them(scene):
    client = client_for(scene["admin"])
    upload = SimpleUploadedFile("feil.csv", INVALID.encode(), "text/csv")
    page = client.post(
        reverse("actors:structure_changes"), {"file": upload, "effective": "2028-01-01"}
    )
    assert page.templates[0].name == "actors/structure_change_list.html"
    assert "9998" in page.content.decode() and "9911" in page.content.decode()
    assert not StructureChange.objects.exists()


def test_command_dry_run_and_apply(scene, tmp_path, capsys):
    path = tmp_path / "endringer-2028.csv"
    # The day from the change_occurred column (as in endringer-2026.csv).
    dated = "\n".join(line + (",change_occurred" if i == 0 else ",2028-01-01")
                      for i, line in enumerate(CHANGES.strip().split("\n")))  # fmt: skip
    path.write_text(dated, encoding="utf-8")
    call_command("structure_changes", str(path))
    out = capsys.readouterr().out
    assert "3101 Halden → 3199 Halden" in out and "1599 Nyby" in out
    assert not StructureChange.objects.exists()
    call_command(
        "structure_changes", str(path), "--effective", "2028-01-01", "--apply",
        "--user", "admin", "--contact", "ola=1599",
    )  # fmt: skip
    assert StructureChange.objects.get().applied_by == scene["admin"]
    assert "1599" in scene["follows"].municipalities.values_list("number", flat=True)
    with pytest.raises(CommandError, match="line 2"):
        call_command("structure_changes", str(path), "--effective", "2029-01-01")


def test_a_split_with_a_new_number_and_a_merge_under_a_new_name(scene):
    """The part that keeps the name may take a new number (as 1507 Ålesund became 1508), a
    merge may take a new number and name: the surviving one is then the first listed."""
    tromso, bindal, somna = m("5501"), m("1811"), m("1812")
    plan = plan_of(
        "old_kommunenummer,old_navn,new_kommunenummer,new_navn,change,andel\n"
        "5501,Tromsø,5599,Tromsø,split,0.8\n"
        "5501,Tromsø,5598,Kvaløya,split,0.2\n"
        "1812,Sømna,1898,Sør-Helgeland,merged,\n"
        "1811,Bindal,1898,Sør-Helgeland,merged,\n"
    )
    assert plan.ok, plan.errors
    assert plan.renamings == []
    structure_changes.apply(plan, user=scene["admin"])
    tromso.refresh_from_db()
    assert (tromso.number, tromso.valid_to) == ("5599", None)
    assert m("5598").predecessors.get() == tromso
    somna.refresh_from_db()
    assert (somna.number, somna.name, somna.valid_to) == ("1898", "Sør-Helgeland", None)
    assert somna.predecessors.get() == bindal
    scene["bindal_org"].refresh_from_db()
    assert scene["bindal_org"].municipality == somna
    old, new = StructureOn(BEFORE), StructureOn(DAY)
    assert (old.places[somna.pk].name, new.places[somna.pk].name) == ("Sømna", "Sør-Helgeland")
    assert old.places[tromso.pk].number == "5501" and new.places[tromso.pk].number == "5599"
    assert len(new) == 357  # one more (Kvaløya), one fewer (Bindal)
