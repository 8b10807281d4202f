"""The solutions of the programme, whom they apply to, what they need, and their
readiness checklists (from the planning documents, see DOMAIN.md)."""

from django.db import migrations

PLO = ["sykehjem", "hjemmetjeneste", "kommune"]
SOLUTIONS = [
    # code, name, short, area_wise, types, requires, description
    ("kjernejournal", "Kjernejournal", "Kjernejournal", False,
     ["sykehus", "legevakt", "fastlegekontor", "avtalespesialist", *PLO, "ohd", "apotek"], [],
     "Nasjonal løsning med viktige helseopplysninger om pasienten. Forutsetning for "
     "dokumentdeling og kritisk informasjon."),
    ("sfm", "Sentral forskrivningsmodul (SFM)", "SFM", False,
     [*PLO, "ohd", "fastlegekontor", "sykehus"], [],
     "E-resept-modul; kommunal pleie og omsorg først (2022). Forutsetning for PLL."),
    ("e-multidose", "e-Multidose", "e-Multidose", False,
     ["fastlegekontor", "apotek", *PLO], [], "Elektronisk multidose."),
    ("pll", "Pasientens legemiddelliste (PLL)", "PLL", True,
     ["fastlegekontor", "avtalespesialist", "sykehus", "legevakt", "sykehjem",
      "hjemmetjeneste", "ohd", "apotek"], ["sfm"],
     "Innføres område for område rundt helseforetakenes opptaksområder; aktørene i et "
     "område starter samtidig."),
    ("dokumentdeling", "Dokumentdeling", "Dokumentdeling", False,
     ["sykehus", "avtalespesialist", "legevakt", "ohd", "fastlegekontor", *PLO],
     ["kjernejournal"], "Deling av dokumenter via kjernejournal."),
    ("kritisk-informasjon", "Kritisk informasjon", "Kritisk info", False,
     ["sykehus", "fastlegekontor", "avtalespesialist", "sykehjem", "ohd"], ["kjernejournal"],
     "API i kjernejournal for kritisk informasjon; begrenset bredding i Helse Vest først."),
    ("datadeling", "Datadeling for digital hjemmeoppfølging", "Datadeling", False,
     ["fastlegekontor", "avtalespesialist", "sykehus", "legevakt", *PLO, "ohd"], [],
     "Ingen forutsetninger; aktørene tar i bruk på eget initiativ."),
]  # fmt: skip

# solution code -> [(scope, text)]
PREREQUISITES = {
    "pll": [
        ("organisation", "SFM er etablert hos virksomheten"),
        ("vendor", "EPJ-/kurvesystemet støtter PLL"),
        ("vendor", "Leverandøren kan gi brukerstøtte ved oppstart"),
        ("organisation", "Virksomheten er teknisk og organisatorisk klar"),
        ("organisation", "Virksomheten er klar til å starte samtidig med de andre i området"),
        ("area", "Intensjonsavtaler med nok aktører i området"),
    ],
    "dokumentdeling": [
        ("organisation", "Kjernejournal er i bruk hos virksomheten"),
        ("area", "Tillitsmodellen fra steg 1 er på plass"),
        ("vendor", "EPJ-systemet støtter dokumentdeling"),
    ],
    "kritisk-informasjon": [
        ("organisation", "Kjernejournal er i bruk hos virksomheten"),
        ("area", "Valgt standard for kritisk informasjon er fastsatt"),
        ("vendor", "EPJ-systemet støtter API for kritisk informasjon"),
    ],
    "kjernejournal": [
        ("organisation", "Helsepersonell er opplært"),
        ("vendor", "EPJ-systemet er integrert med kjernejournal"),
    ],
    "sfm": [
        ("organisation", "Rutiner for legemiddelhåndtering er oppdatert"),
        ("vendor", "EPJ-systemet har integrert SFM"),
    ],
    "e-multidose": [
        ("organisation", "Avtale med multidoseapotek"),
        ("vendor", "EPJ-systemet støtter e-multidose"),
    ],
    "datadeling": [],
}


def load(apps, schema_editor):
    Solution = apps.get_model("rollout", "Solution")
    Prerequisite = apps.get_model("rollout", "Prerequisite")
    OrganisationType = apps.get_model("actors", "OrganisationType")
    types = {t.code: t for t in OrganisationType.objects.all()}
    solutions = {}
    for order, (code, name, short, area_wise, type_codes, _req, description) in enumerate(
        SOLUTIONS, start=1
    ):
        solution, _ = Solution.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "short_name": short,
                "area_wise": area_wise,
                "description": description,
                "sort_order": order,
            },
        )
        solution.organisation_types.set([types[c] for c in type_codes])
        solutions[code] = solution
    for code, *_rest, requires, _d in SOLUTIONS:
        solutions[code].requires.set([solutions[r] for r in requires])
    for code, items in PREREQUISITES.items():
        for order, (scope, text) in enumerate(items, start=1):
            Prerequisite.objects.get_or_create(
                solution=solutions[code], text=text, defaults={"scope": scope, "sort_order": order}
            )


class Migration(migrations.Migration):
    dependencies = [("rollout", "0002_append_only_history"), ("actors", "0002_organisation_types")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
