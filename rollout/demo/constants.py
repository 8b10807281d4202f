"""Dates, counts, areas and blocking reasons from the planning documents, shared by the
rollout demo's modules."""

from __future__ import annotations

import datetime

from actors.choices import OrganisationTypeCode as T

D = datetime.date
DAY = datetime.timedelta(days=1)
START = D(2021, 1, 1)
# "Høsten 2021 var kjernejournal innført i alle sykehus, legevakter og ved 90 prosent av
# fastlegekontorene."
KJ_AUTUMN_2021 = D(2021, 9, 30)
GP_SHARE_AUTUMN_2021 = 0.90
# "Per november 2021 hadde 77 kommuner startet utprøving/innføring av kjernejournal mens
# ytterligere 26 kommuner var teknisk tilkoblet."
PLO_COUNT_DAY = D(2021, 11, 30)
PLO_STARTED_2021 = 77
PLO_CONNECTED_2021 = 26
# "Ved utgangen av 2022 antas det at om lag 140 – 150 kommuner har innført kjernejournal."
PLO_IN_USE_END_2022 = 145
# Municipalities whose PLO take kjernejournal into use in 2023, 2024, 2025 and 2026.
PLO_LATER_COHORTS = {
    "2023": (D(2023, 1, 15), D(2023, 12, 15), 50),
    "2024": (D(2024, 1, 15), D(2024, 12, 15), 45),
    "2025": (D(2025, 1, 15), D(2025, 12, 15), 40),
    "2026": (D(2026, 1, 12), D(2026, 10, 15), 25),
}
PLO = (T.MUNICIPALITY, T.HOME_CARE, T.NURSING_HOME, T.MUNICIPAL_ACUTE_BEDS)
HELSE_VEST = ("helse-bergen", "helse-stavanger", "helse-fonna", "helse-forde")
BERGEN_AREA = "helse-bergen"
BERGEN = "4601"
PLL_DECISION = D(2023, 2, 14)
PLL_START = D(2023, 4, 17)
# Other areas in planning for PLL, with the start the programme board plans for.
PLL_PLANNED = {
    "helse-stavanger": D(2027, 3, 1),
    "helse-fonna": D(2027, 9, 1),
    "helse-forde": D(2028, 1, 10),
}

EPJ_VERSION = "Venter på ny versjon av EPJ-systemet fra leverandør"
TRAINING = "Mangler opplæring av helsepersonell"
TRUST_MODEL = "Avventer avklaring om tillitsmodell"
CAPACITY = "Avventer kapasitet i kommunens IKT-tjeneste"
NETWORK = "Tilknytning til Helsenettet er ikke på plass"
MULTIDOSE_AGREEMENT = "Mangler avtale med multidoseapotek"
BLOCK_REASONS = [EPJ_VERSION, TRAINING, CAPACITY, NETWORK]
