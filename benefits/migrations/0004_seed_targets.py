"""The result targets (resultatmål) of steg 2, from the planning document's section 1.3.4
(seeds/003). Targets are data: administrators can change them in the admin."""

import datetime
from decimal import Decimal

from django.db import migrations

STEG_2 = "Resultatmål for steg 2 (planleggingsdokument, kap. 1.3.4)"
END_2026 = datetime.date(2026, 12, 31)
ALL_OF_GROUP = (
    "Kilden angir ingen prosentandel: målet leses som at hele aktørgruppen har tatt det i "
    "bruk, og følges som antall av antall."
)
TARGETS = [
    # code, name, solution, unit, types, achieved, denominator, rule, threshold, deadline,
    # per_area, description
    ("kjernejournal-plo", "Kjernejournal i kommunal pleie og omsorg", "kjernejournal",
     "municipalities", ["sykehjem", "hjemmetjeneste"], ["i_bruk"], "all", "all", "0.800",
     END_2026, False,
     "«Kjernejournal er innført til minst 80 prosent av de kommunale pleie- og "
     "omsorgstjenestene, og de har fått tilgang til dokumenter som andre virksomheter deler.» "
     "En kommune teller når alle dens sykehjem og hjemmetjenester (som ikke er merket ikke "
     "relevant) har kjernejournal i bruk; nevneren er alle landets kommuner."),
    ("e-multidose-legekontor", "e-Multidose ved legekontor", "e-multidose", "organisations",
     ["fastlegekontor"], ["i_bruk"], "relevant", "all", "0.800", datetime.date(2024, 12, 31),
     False, "«Multidose innført ved minst 80 prosent av legekontor senest i løpet av 2024.»"),
    ("pll-prioriterte-aktorer", "PLL hos prioriterte aktører", "pll", "organisations",
     ["fastlegekontor", "avtalespesialist", "sykehus", "legevakt", "sykehjem",
      "hjemmetjeneste", "ohd", "apotek"], ["i_bruk"], "relevant", "all", "0.800",
     datetime.date(2028, 12, 31), True,
     "«Pasientens legemiddelliste er prøvd ut og innført hos minst 80% av prioriterte "
     "aktører senest innen utgangen av 2028.» Kilden lister ikke de prioriterte aktørene; "
     "her er det alle aktørtypene PLL innføres til. Følges område for område."),
    ("kritisk-info-helseforetak", "Kritisk informasjon: helseforetakene", "kritisk-informasjon",
     "organisations", ["sykehus"], ["i_bruk"], "relevant", "all", "1.000", END_2026, False,
     "«Helseforetakene har innført API-et for kritisk informasjon i kjernejournal.» "
     + ALL_OF_GROUP),
    ("kritisk-info-fastlege-avtalespesialist",
     "Kritisk informasjon: fastleger og avtalespesialister", "kritisk-informasjon",
     "organisations", ["fastlegekontor", "avtalespesialist"], ["i_bruk"], "relevant", "all",
     "1.000", END_2026, False,
     "«Fastleger og avtalespesialister har innført API for å dele kritisk informasjon.» "
     + ALL_OF_GROUP),
    ("kritisk-info-sykehjem-ohd", "Kritisk informasjon: sykehjem og ØHD/KAD",
     "kritisk-informasjon", "organisations", ["sykehjem", "ohd"], ["i_bruk"], "relevant",
     "all", "1.000", END_2026, False,
     "«Sykehjem og øyeblikkelig hjelp døgntilbud (ØHD)/kommunal akutt døgnenhet (KAD) har "
     "innført API for kritisk informasjon.» " + ALL_OF_GROUP),
    ("dokumentdeling-helseforetak", "Dokumentdeling: helseforetakene deler",
     "dokumentdeling", "organisations", ["sykehus"], ["i_bruk"], "relevant", "all", "1.000",
     END_2026, False,
     "«Helseforetakene deler utvalgte dokumenter til helsepersonell og innbygger.» "
     + ALL_OF_GROUP),
    ("dokumentdeling-avtalespesialist-legevakt-ohd",
     "Dokumentdeling: avtalespesialister, legevakt og ØHD/KAD prøver ut og deler",
     "dokumentdeling", "organisations", ["avtalespesialist", "legevakt", "ohd"],
     ["i_utproving", "i_bruk"], "relevant", "all", "1.000", END_2026, False,
     "«Avtalespesialister, legevakt og øyeblikkelig hjelp døgntilbud (ØHD)/kommunal akutt "
     "døgnenhet (KAD) prøver ut og deler utvalgte dokumenter til helsepersonell og "
     "innbygger.» Utprøving teller. " + ALL_OF_GROUP),
]  # fmt: skip


def seed(apps, schema_editor):
    CoverageTarget = apps.get_model("benefits", "CoverageTarget")
    Solution = apps.get_model("rollout", "Solution")
    OrganisationType = apps.get_model("actors", "OrganisationType")
    types = {t.code: t for t in OrganisationType.objects.all()}
    for order, row in enumerate(TARGETS):
        (code, name, solution, unit, type_codes, achieved, denominator, rule, threshold,
         deadline, per_area, description) = row  # fmt: skip
        target, _created = CoverageTarget.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "source": STEG_2,
                "solution": Solution.objects.get(code=solution),
                "unit": unit,
                "achieved_statuses": achieved,
                "denominator": denominator,
                "municipality_rule": rule,
                "threshold": Decimal(threshold),
                "deadline": deadline,
                "per_area": per_area,
                "sort_order": order,
            },
        )
        target.organisation_types.set([types[c] for c in type_codes])


class Migration(migrations.Migration):
    dependencies = [
        ("benefits", "0003_coveragetarget_coveragesnapshot"),
        ("rollout", "0003_solution_catalogue"),
        ("actors", "0002_organisation_types"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
