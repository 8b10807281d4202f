"""Dependencies (external deliveries) and reminders: the readiness verdict waits for open
dependencies; reminders are selected within each user's scope and throttled."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from actors.concurrency import VersionConflict
from actors.models import HealthTrust, Municipality, ReminderSent
from actors.scoping import SYSTEM_USER
from benefits.governance import dependencies as svc
from benefits.models import Benefit, BenefitGoal, BenefitReport, CoverageTarget
from benefits.tasks import send_reminders
from rollout import selectors
from rollout import services as rollout_services
from rollout.models import DecisionPoint, Dependency, ReadinessReport, Solution
from tests.conftest import api_client_for, client_for
from tests.factories import UserFactory

TODAY = timezone.localdate()
SFM_PLO = "SFM i kommunal pleie og omsorg"


def pll():
    return Solution.objects.get(code="pll")


def trust(code):
    return HealthTrust.objects.get(code=code)


def condition(readiness, name):
    return next(c for c in readiness.conditions if c.name == name)


def plan_area(code, days=30):
    return rollout_services.area_rollout_update(
        user=SYSTEM_USER,
        solution=pll(),
        health_trust=trust(code),
        expected_version=0,
        phase="planlegging",
        planned_start=TODAY + datetime.timedelta(days=days),
    )


def deliver(name):
    dependency = Dependency.objects.get(name=name)
    return svc.dependency_save(
        user=SYSTEM_USER,
        dependency_id=dependency.pk,
        expected_version=dependency.version,
        fields={"status": "levert", "delivered_date": TODAY},
    )


def age(queryset, days):
    queryset.update(updated_at=timezone.now() - datetime.timedelta(days=days))


# --- dependencies and readiness -------------------------------------------------------


def test_open_dependency_blocks_the_area_until_delivered(make_user, org_bergen):
    coordinator = make_user("coord_area")
    readiness = selectors.area_readiness(pll(), trust("helse-bergen"), coordinator)
    waiting = condition(readiness, "dependencies")
    assert not waiting.passed and not readiness.can_start
    assert [d.name for d in waiting.failing] == [SFM_PLO]
    assert waiting.detail == "0 / 1"
    deliver(SFM_PLO)
    readiness = selectors.area_readiness(pll(), trust("helse-bergen"), coordinator)
    assert condition(readiness, "dependencies").passed
    assert condition(readiness, "dependencies").detail == "1 / 1"


def test_dependency_of_one_area_does_not_hold_back_another(make_user):
    deliver(SFM_PLO)
    svc.dependency_save(
        user=SYSTEM_USER,
        dependency_id=None,
        expected_version=None,
        fields={"name": "Lokal integrasjon i UNN", "status": "forsinket"},
        solutions=[pll()],
        health_trusts=[trust("unn")],
    )
    admin = make_user("admin")
    bergen = selectors.area_readiness(pll(), trust("helse-bergen"), admin)
    assert condition(bergen, "dependencies").passed
    unn = condition(selectors.area_readiness(pll(), trust("unn"), admin), "dependencies")
    assert not unn.passed and [d.name for d in unn.failing] == ["Lokal integrasjon i UNN"]


def test_area_and_solution_pages_say_what_they_wait_for(make_user):
    client = client_for(make_user("contact"))
    page = client.get(reverse("rollout:area_detail", args=["pll", "helse-bergen"]))
    assert SFM_PLO in page.content.decode()
    assert page.context["readiness"].conditions[-1].name == "dependencies"
    page = client.get(reverse("rollout:solution_detail", args=["kritisk-informasjon"]))
    names = [d.name for d in page.context["waiting_for"]]
    assert names == ["Tillitsmodell fra steg 1", "Standard for kritisk informasjon"]
    assert "Tillitsmodell fra steg 1" in page.content.decode()
    deliver("Tillitsmodell fra steg 1")
    page = client.get(reverse("rollout:solution_detail", args=["kritisk-informasjon"]))
    assert [d.name for d in page.context["waiting_for"]] == ["Standard for kritisk informasjon"]


def test_only_national_coordinators_and_admins_record_dependencies(make_user):
    fields = {"name": "Ny leveranse", "status": "planlagt"}
    for kind in ("contact", "coord_area", "directorate", "norole"):
        with pytest.raises(PermissionDenied):
            svc.dependency_save(
                user=make_user(kind),
                dependency_id=None,
                expected_version=None,
                fields=fields,
                solutions=[pll()],
            )
    saved = svc.dependency_save(
        user=make_user("coord_nat"),
        dependency_id=None,
        expected_version=None,
        fields=fields,
        solutions=[pll()],
    )
    assert saved.version == 1 and list(saved.solutions.all()) == [pll()]


def test_dependency_rules_and_concurrency(make_user):
    nat = make_user("coord_nat")
    dependency = Dependency.objects.get(name=SFM_PLO)
    with pytest.raises(ValidationError) as exc:
        svc.dependency_save(
            user=nat,
            dependency_id=dependency.pk,
            expected_version=dependency.version,
            fields={"status": "levert"},
        )
    assert "delivered_date" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        svc.dependency_save(
            user=nat, dependency_id=None, expected_version=None, fields={"name": "Uten løsning"}
        )
    assert "solutions" in exc.value.message_dict
    svc.dependency_save(
        user=nat,
        dependency_id=dependency.pk,
        expected_version=dependency.version,
        fields={"status": "forsinket"},
    )
    with pytest.raises(VersionConflict):
        svc.dependency_save(
            user=nat,
            dependency_id=dependency.pk,
            expected_version=dependency.version,
            fields={"status": "pagar"},
        )


def test_dependency_form_keeps_the_version(make_user):
    client = client_for(make_user("coord_nat"))
    dependency = Dependency.objects.get(name=SFM_PLO)
    url = reverse("governance:dependency_edit", args=[dependency.pk])
    data = {
        "name": dependency.name,
        "status": "forsinket",
        "expected_date": "2028-06-30",
        "solutions": [pll().pk],
        "version": dependency.version,
    }
    response = client.post(url, data)
    assert response.status_code == 302
    dependency.refresh_from_db()
    assert dependency.status == "forsinket" and dependency.version == 2
    stale = client.post(url, {**data, "status": "pagar", "version": 1})
    assert stale.status_code == 200 and stale.context["form"].non_field_errors()
    dependency.refresh_from_db()
    assert dependency.status == "forsinket"


def test_dependency_api_with_etag(make_user):
    dependency = Dependency.objects.get(name=SFM_PLO)
    url = reverse("dependency-detail", args=[dependency.pk])
    nat = api_client_for(make_user("coord_nat"))
    response = nat.get(url)
    assert response.status_code == 200 and response["ETag"] == f'"{dependency.version}"'
    assert response.json()["solutions"] == ["pll"] and response.json()["is_open"]
    assert nat.patch(url, {"status": "forsinket"}, format="json").status_code == 428
    stale = nat.patch(url, {"status": "forsinket"}, format="json", HTTP_IF_MATCH='"9"')
    assert stale.status_code == 412
    ok = nat.patch(
        url,
        {"status": "levert", "delivered_date": str(TODAY), "health_trusts": ["unn"]},
        format="json",
        HTTP_IF_MATCH=response["ETag"],
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["health_trusts"] == ["unn"] and not ok.json()["is_open"]
    assert ok["ETag"] == f'"{dependency.version + 1}"'
    refused = nat.patch(
        url, {"status": "pagar"}, format="json", HTTP_IF_MATCH=ok["ETag"]
    )  # still has a delivery date
    assert refused.status_code == 400 and "delivered_date" in refused.json()


# --- reminders: selection -------------------------------------------------------------


def test_contact_is_reminded_of_readiness_reports_for_areas_about_to_start(make_user):
    plan_area("helse-bergen", days=30)
    plan_area("unn", days=30)  # Tromsø: not the contact's
    plan_area("helse-stavanger", days=200)  # too far ahead anyway
    contact = make_user("contact")
    due = svc.reminders_due(contact)
    texts = [i["text"] for i in due["readiness"]]
    assert len(texts) == 1 and "Bergen" in texts[0] and "PLL" in texts[0]
    ReadinessReport.objects.create(
        solution=pll(),
        municipality=Municipality.objects.get(number="4601"),
        status="innsendt",
        created_by=contact,
    )
    assert "readiness" not in svc.reminders_due(contact)


def test_contact_is_reminded_of_stale_drafts_only(make_user):
    contact = make_user("contact")
    draft = rollout_services.report_create(
        user=contact,
        solution=Solution.objects.get(code="datadeling"),
        municipality=Municipality.objects.get(number="4601"),
    )
    assert svc.reminders_due(contact) == {}
    age(ReadinessReport.objects.filter(pk=draft.pk), svc.stale_days() + 1)
    (item,) = svc.reminders_due(contact)["readiness"]
    assert item["link"] == draft.get_absolute_url()


@pytest.fixture
def benefit(db):
    b = Benefit.objects.create(
        goal=BenefitGoal.objects.first(),
        name="Tid til legemiddelavstemming",
        indicator="Minutter",
        unit="min",
        direction="lower",
        owner="Kommunen",
    )
    b.solutions.set([Solution.objects.get(code="kjernejournal")])
    return b


def test_contact_is_reminded_of_missing_baselines_in_their_municipality(
    make_user, benefit, org_bergen, org_tromso
):
    for org in (org_bergen, org_tromso):
        rollout_services.status_change(
            user=SYSTEM_USER,
            organisation=org,
            solution=Solution.objects.get(code="kjernejournal"),
            to_status="i_bruk",
            effective_date=datetime.date(2024, 3, 1),
        )
    (item,) = svc.reminders_due(make_user("contact"))["benefit"]
    assert "Bergen legesenter" in item["text"] and benefit.name in item["text"]


def test_coordinators_are_reminded_of_reports_waiting_in_their_areas(make_user, benefit):
    bergen = Municipality.objects.get(number="4601")
    tromso = Municipality.objects.get(number="5501")
    author = make_user("contact")
    for municipality in (bergen, tromso):
        ReadinessReport.objects.create(
            solution=pll(),
            municipality=municipality,
            status="innsendt",
            created_by=author,
            submitted_at=timezone.now(),
        )
    BenefitReport.objects.create(
        benefit=benefit,
        municipality=bergen,
        kind="nullpunkt",
        period_start=datetime.date(2024, 1, 1),
        period_end=datetime.date(2024, 2, 1),
        value=Decimal("10"),
        method="Telling",
        status="innsendt",
    )
    bergen_coord = svc.reminders_due(make_user("coord_area"))["review"]
    assert len(bergen_coord) == 2 and all("Tromsø" not in i["text"] for i in bergen_coord)
    unn = UserFactory(username="coord_unn", role="coordinator", health_trusts=["unn"])
    (item,) = svc.reminders_due(unn)["review"]
    assert "Tromsø" in item["text"]
    assert len(svc.reminders_due(make_user("coord_nat"))["review"]) == 3
    # Nothing for roles that are not reminded.
    assert svc.reminders_due(make_user("directorate")) == {}
    assert svc.reminders_due(make_user("norole")) == {}


# --- reminders: sending and throttling ------------------------------------------------


def test_reminders_are_sent_once_per_interval(
    make_user, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.REMINDER_INTERVAL_DAYS = 7
    plan_area("helse-bergen", days=10)
    contact = make_user("contact", email="kontakt@bergen.kommune.no")
    make_user("coord_area", email="koordinator@helse-bergen.no")  # nothing to review
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reminders.delay().get() == 1
    (mail,) = mailoutbox
    assert mail.to == ["kontakt@bergen.kommune.no"]
    assert "Bergen" in mail.body and reverse("governance:reminder_list") in mail.body
    (sent,) = ReminderSent.objects.filter(user=contact)
    assert sent.kind == "readiness" and len(sent.items) == 1
    # Run again (beat every weekday, or a retried task): nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert svc.reminders_send() == 0
    assert len(mailoutbox) == 1
    # More becomes due of a kind sent this week: it waits for the interval.
    draft = rollout_services.report_create(
        user=contact,
        solution=Solution.objects.get(code="datadeling"),
        municipality=Municipality.objects.get(number="4601"),
    )
    age(ReadinessReport.objects.filter(pk=draft.pk), 30)
    with django_capture_on_commit_callbacks(execute=True):
        assert svc.reminders_send() == 0
    # After the interval it is sent again, with everything due now (the sent reminders are
    # append-only: the clock moves, not their dates).
    with django_capture_on_commit_callbacks(execute=True):
        assert svc.reminders_send(now=timezone.now() + datetime.timedelta(days=8)) == 1
    assert len(mailoutbox) == 2
    assert len(ReminderSent.objects.filter(user=contact).first().items) == 2


def test_interval_is_a_setting(make_user, settings, mailoutbox):
    plan_area("helse-bergen", days=10)
    contact = make_user("contact", email="kontakt@bergen.kommune.no")
    svc.reminder_send(contact)
    two_days_later = timezone.now() + datetime.timedelta(days=2)
    settings.REMINDER_INTERVAL_DAYS = 3
    assert svc.reminder_send(contact, now=two_days_later) == []
    settings.REMINDER_INTERVAL_DAYS = 1
    assert len(svc.reminder_send(contact, now=two_days_later)) == 1


def test_inactive_users_and_users_without_anything_due_get_nothing(make_user, mailoutbox):
    plan_area("helse-bergen", days=10)
    make_user("contact", email="k@bergen.kommune.no", is_active=False)
    assert svc.reminders_send() == 0
    assert not ReminderSent.objects.exists() and not mailoutbox


def test_reminder_page_shows_what_is_due_and_what_was_sent(make_user):
    plan_area("helse-bergen", days=10)
    contact = make_user("contact")
    svc.reminder_send(contact)
    other = make_user("coord_nat")
    ReminderSent.objects.create(user=other, kind="review", items=[{"text": "Hemmelig"}])
    page = client_for(contact).get(reverse("governance:reminder_list"))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Bergen" in content and "Hemmelig" not in content
    assert len(page.context["sent"]) == 1 and len(page.context["due"]) == 1
    api = api_client_for(contact)
    assert len(api.get(reverse("reminder-list")).json()["results"]) == 1
    (group,) = api.get(reverse("reminder-due")).json()
    assert group["kind"] == "readiness" and len(group["items"]) == 1


# --- start pages ----------------------------------------------------------------------


@pytest.fixture
def deadlines(db):
    target = CoverageTarget.objects.filter(is_active=True).first()
    target.deadline = TODAY + datetime.timedelta(days=100)
    target.save()
    soon = DecisionPoint.objects.create(
        title="Beslutningspunkt Q3", scheduled_for=TODAY + datetime.timedelta(days=20)
    )
    DecisionPoint.objects.create(
        title="Avholdt punkt",
        scheduled_for=TODAY + datetime.timedelta(days=10),
        status="besluttet",
    )
    DecisionPoint.objects.create(
        title="Langt fram", scheduled_for=TODAY + datetime.timedelta(days=200)
    )
    return target, soon


def test_upcoming_deadlines(deadlines):
    target, soon = deadlines
    rows = svc.upcoming_deadlines()["rows"]
    assert [r.get("decision_point") for r in rows if "decision_point" in r] == [soon]
    assert target in [r.get("target") for r in rows]
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)


def test_start_pages_show_deadlines_and_what_is_due(make_user, deadlines):
    target, soon = deadlines
    plan_area("helse-bergen", days=10)
    page = client_for(make_user("contact")).get(reverse("actors:home")).content.decode()
    assert soon.title in page and target.name in page
    assert reverse("governance:reminder_list") in page
    dashboard = client_for(make_user("directorate")).get(reverse("benefits:target_dashboard"))
    assert soon.title in dashboard.content.decode()
    norole = client_for(make_user("norole")).get(reverse("actors:home"))
    assert soon.title not in norole.content.decode()
