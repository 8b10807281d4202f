"""Serializers of the benefits API. Output serializers describe the stored rows; the input
serializers only check the shape of a request (and that named parties are in the user's
reach), the rules live in benefits.services."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from actors.api.fields import (
    ChoiceLabelField,
    EnumChoiceField,
    OptionalEmailField,
    UserField,
    key_list,
)
from actors.api.review import ReviewedReportSerializer
from actors.api.serializers import JobChoiceField, absolute_url, request_user
from actors.choices import OrganisationTypeCode
from actors.models import Job, Municipality, Organisation
from rollout.choices import Status
from rollout.models import Solution

from .. import services
from ..choices import (
    AgreementStatus,
    Denominator,
    Direction,
    Level,
    MeasurementKind,
    MunicipalityRule,
    TargetUnit,
    Verdict,
)
from ..models import (
    DEFAULT_PROGRAMME,
    AgreementDocument,
    Benefit,
    BenefitGoal,
    BenefitReport,
    CoverageSnapshot,
    CoverageTarget,
    IntentAgreement,
)
from ..selectors import late_baseline_warning, late_baseline_warnings

# --- intention agreements -------------------------------------------------------------


class PartySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["municipality", "organisation"])
    number = serializers.CharField(help_text=_("Municipality number or organisation number."))
    name = serializers.CharField()


class AgreementDocumentSerializer(serializers.ModelSerializer):
    uploaded_by = UserField(
        help_text=_("Who uploaded it; null when not known (documents from before versions)."),
    )
    is_current = serializers.BooleanField(read_only=True)
    superseded_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text=_("When a newer version replaced it; null for the current version."),
    )
    url = serializers.SerializerMethodField(help_text=_("Where to download this version."))

    class Meta:
        model = AgreementDocument
        fields = [
            "id",
            "file_name",
            "size",
            "uploaded_by",
            "uploaded_at",
            "is_current",
            "superseded_at",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, obj) -> str:
        url = reverse("intentagreement-document-version", args=[obj.agreement_id, obj.pk])
        return absolute_url(self, url)


class IntentAgreementSerializer(serializers.ModelSerializer):
    status = EnumChoiceField(AgreementStatus, read_only=True)
    status_label = ChoiceLabelField(source="status")
    # The relations are read from the lists IntentAgreementViewSet prefetches (`*_list`).
    municipalities = key_list(
        "number",
        source="municipality_list",
        help_text=_("Numbers of the municipalities that are parties."),
    )
    organisations = key_list(
        "orgnr",
        source="organisation_list",
        help_text=_("Organisation numbers of the organisations that are parties."),
    )
    parties = serializers.SerializerMethodField(help_text=_("The parties with their names."))
    solutions = key_list(
        "code",
        source="solution_list",
        help_text=_("Codes of the solutions; empty means the whole programme."),
    )
    contact_email = OptionalEmailField(read_only=True)
    has_document = serializers.SerializerMethodField()
    document_url = serializers.SerializerMethodField(
        help_text=_("Where to download the signed PDF; null when none is uploaded.")
    )
    documents = AgreementDocumentSerializer(
        many=True,
        read_only=True,
        source="document_list",
        help_text=_("Every version of the signed document, the current one first."),
    )
    edit_refusal = serializers.SerializerMethodField(
        help_text=_(
            "Why you may not change this agreement (the reason a PATCH would be refused "
            "with); null when you may."
        )
    )

    class Meta:
        model = IntentAgreement
        fields = [
            "id",
            "title",
            "programme",
            "status",
            "status_label",
            "sent_date",
            "signed_date",
            "ended_date",
            "municipalities",
            "organisations",
            "parties",
            "solutions",
            "clause_benefits",
            "clause_financing",
            "clause_risk_sharing",
            "has_document",
            "document_url",
            "documents",
            "edit_refusal",
            "contact_person",
            "contact_email",
            "notes",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(PartySerializer(many=True))
    def get_parties(self, obj):
        return [
            {"kind": "municipality", "number": m.number, "name": m.name}
            for m in obj.municipality_list
        ] + [
            {"kind": "organisation", "number": o.orgnr, "name": o.name}
            for o in obj.organisation_list
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_edit_refusal(self, obj) -> str | None:
        """services.AgreementReach.refusal, with the reach the viewset reads once."""
        return self.context["reach"].refusal(obj.municipality_list, obj.organisation_list)

    @staticmethod
    def _current_document(obj):
        """IntentAgreement.current_document, from the prefetched list."""
        return next((d for d in obj.document_list if d.is_current), None)

    def get_has_document(self, obj) -> bool:
        return self._current_document(obj) is not None

    def get_document_url(self, obj) -> str | None:
        if self._current_document(obj) is None:
            return None
        return absolute_url(self, reverse("intentagreement-document", args=[obj.pk]))


class IntentAgreementWriteSerializer(serializers.Serializer):
    """An agreement as sent on create (POST) and change (PUT, or PATCH with only the fields
    that change). JSON, or multipart when a signed PDF is uploaded with it."""

    title = serializers.CharField(max_length=200)
    programme = serializers.CharField(max_length=200, default=DEFAULT_PROGRAMME)
    status = EnumChoiceField(AgreementStatus, default=AgreementStatus.DRAFT)
    sent_date = serializers.DateField(allow_null=True, default=None)
    signed_date = serializers.DateField(allow_null=True, default=None)
    ended_date = serializers.DateField(allow_null=True, default=None)
    clause_benefits = serializers.BooleanField(default=False)
    clause_financing = serializers.BooleanField(default=False)
    clause_risk_sharing = serializers.BooleanField(default=False)
    contact_person = serializers.CharField(max_length=200, allow_blank=True, default="")
    contact_email = serializers.EmailField(allow_blank=True, default="")
    notes = serializers.CharField(allow_blank=True, default="")
    municipalities = key_list(
        "number",
        queryset=Municipality.objects.none(),
        help_text=_("Numbers of the party municipalities (ones you can see)."),
    )
    organisations = key_list(
        "orgnr",
        queryset=Organisation.objects.none(),
        help_text=_("Organisation numbers of the party organisations (ones you can see)."),
    )
    solutions = key_list(
        "code",
        queryset=Solution.objects.all(),
        help_text=_("Solution codes; none means the whole programme."),
    )
    document = serializers.FileField(
        required=False,
        help_text=_("The signed agreement as PDF, at most 10 MB (multipart only)."),
    )

    def get_fields(self):
        fields = super().get_fields()
        user = request_user(self)
        fields["municipalities"].child_relation.queryset = Municipality.objects.visible_to(user)
        fields["organisations"].child_relation.queryset = Organisation.objects.visible_to(user)
        return fields


class CoverageRowSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text=_("`nation`, the county number or the health-trust area code.")
    )
    name = serializers.CharField()
    population = serializers.IntegerField()
    covered_population = serializers.IntegerField(
        help_text=_("Residents of municipalities that are a party to a signed agreement.")
    )
    share = serializers.FloatField(help_text=_("covered_population / population"))
    gap = serializers.IntegerField(help_text=_("Residents still needed to reach the threshold."))
    municipalities = serializers.IntegerField()
    covered_municipalities = serializers.IntegerField()


class CoverageSerializer(serializers.Serializer):
    nation = CoverageRowSerializer()
    by_county = CoverageRowSerializer(many=True)
    by_area = CoverageRowSerializer(
        many=True,
        help_text=_("Per health-trust area, by catchment population (Oslo counts in two)."),
    )
    threshold = serializers.FloatField()
    above_threshold = serializers.BooleanField()
    municipality_share = serializers.FloatField()
    structure_day = serializers.DateField(
        help_text=_(
            "The municipal structure the figures are read in (that day's municipalities "
            "and counties)."
        )
    )
    population_year = serializers.IntegerField(
        allow_null=True, help_text=_("Residents on 1 January of this year.")
    )


# --- benefit register -----------------------------------------------------------------


class BenefitGoalSerializer(serializers.ModelSerializer):
    class Meta:
        model = BenefitGoal
        fields = ["id", "code", "name", "sort_order"]
        read_only_fields = fields


class TargetSerializer(serializers.Serializer):
    value = serializers.DecimalField(
        source="target_value", max_digits=12, decimal_places=2, allow_null=True
    )
    date = serializers.DateField(source="target_date", allow_null=True)


class BenefitSerializer(serializers.ModelSerializer):
    goal = serializers.SlugRelatedField(slug_field="code", read_only=True)
    goal_name = serializers.CharField(source="goal.name", read_only=True)
    direction = EnumChoiceField(Direction, read_only=True)
    direction_label = ChoiceLabelField(source="direction")
    solutions = key_list("code", help_text=_("Codes of the solutions the benefit comes from."))
    target = TargetSerializer(
        source="*", read_only=True, help_text=_("Target value (in the unit) and by when.")
    )

    class Meta:
        model = Benefit
        fields = [
            "id",
            "goal",
            "goal_name",
            "name",
            "description",
            "indicator",
            "unit",
            "direction",
            "direction_label",
            "solutions",
            "owner",
            "baseline_required",
            "target",
            "version",
        ]
        read_only_fields = fields


class RealisationSerializer(serializers.Serializer):
    reporter = serializers.CharField()
    municipality = serializers.CharField(help_text=_("Municipality number."))
    organisation = serializers.CharField(
        allow_null=True, help_text=_("Organisation number; null when the municipality reports.")
    )
    baseline = serializers.DecimalField(max_digits=14, decimal_places=2)
    latest = serializers.DecimalField(max_digits=14, decimal_places=2)
    improvement = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text=_("Positive when the indicator improved.")
    )


class AreaRealisationSerializer(serializers.Serializer):
    area = serializers.CharField()
    expected = serializers.IntegerField()
    reported = serializers.IntegerField()


class CountyRealisationSerializer(serializers.Serializer):
    county = serializers.CharField()
    expected = serializers.IntegerField()
    reported = serializers.IntegerField()


class BenefitSummarySerializer(serializers.Serializer):
    aggregation = serializers.ChoiceField(
        choices=["percent", "rate", "amount"],
        help_text=_(
            "How the reporters' changes are combined, from the unit: percent (a share) and "
            "rate (a ratio) by their mean and median, never summed; amount also by its sum."
        ),
    )
    change_unit = serializers.CharField(
        help_text=_("The unit of a change: percentage points for a share.")
    )
    mean_improvement = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        allow_null=True,
        help_text=_(
            "Mean of the reporters' improvements (positive is better); null when no "
            "reporter has a realised change yet."
        ),
    )
    median_improvement = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    total_improvement = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        allow_null=True,
        help_text=_("Sum of the improvements: only for amounts, null for shares and rates."),
    )
    expected = serializers.IntegerField(
        help_text=_(
            "Reporters expected within your reach: organisations that have one of the "
            "benefit's solutions in use and, where municipalities report as a whole, their "
            "municipalities (and anyone else who reported)."
        )
    )
    expected_municipalities = serializers.IntegerField()
    reported = serializers.IntegerField(
        help_text=_(
            "Reporters (organisations and municipalities) with an approved baseline and follow-up."
        )
    )
    reported_municipalities = serializers.IntegerField()
    coverage = serializers.FloatField(
        allow_null=True, help_text=_("reported / expected; null while nobody has reported")
    )
    note = serializers.CharField(
        help_text=_("Why the realised figures are null, when they are; else empty.")
    )
    by_area = AreaRealisationSerializer(many=True)
    by_county = CountyRealisationSerializer(many=True)
    realisations = RealisationSerializer(many=True)


# --- benefit reports ------------------------------------------------------------------

LATE_BASELINE_WARNINGS = "late_baseline_warnings"


class BenefitReportListSerializer(serializers.ListSerializer):
    """A page of reports: the late-baseline warnings of all its rows in one batch."""

    def to_representation(self, data):
        reports = list(data.all() if hasattr(data, "all") else data)
        self.context[LATE_BASELINE_WARNINGS] = late_baseline_warnings(reports)
        return super().to_representation(reports)


class BenefitReportSerializer(ReviewedReportSerializer, serializers.ModelSerializer):
    benefit_name = serializers.CharField(source="benefit.name", read_only=True)
    municipality = serializers.SlugRelatedField(slug_field="number", read_only=True)
    municipality_name = serializers.CharField(source="municipality.name", read_only=True)
    organisation = serializers.SlugRelatedField(
        slug_field="orgnr",
        read_only=True,
        allow_null=True,
        help_text=_("Organisation number; null when the municipality reports as a whole."),
    )
    organisation_name = serializers.CharField(
        source="organisation.name", read_only=True, allow_null=True, default=None
    )
    kind = EnumChoiceField(MeasurementKind, read_only=True)
    kind_label = ChoiceLabelField(source="kind")
    has_attachment = serializers.SerializerMethodField()
    created_by = UserField(
        help_text=_("Who registered the report; null when the system did."),
    )
    late_baseline_warning = serializers.SerializerMethodField(
        help_text=_(
            "Set when this baseline was measured after the organisation started trying or "
            "using the solution; empty otherwise."
        )
    )

    class Meta:
        model = BenefitReport
        fields = [
            "id",
            "benefit",
            "benefit_name",
            "municipality",
            "municipality_name",
            "organisation",
            "organisation_name",
            "kind",
            "kind_label",
            "period_start",
            "period_end",
            "value",
            "method",
            "evidence",
            "has_attachment",
            "status",
            "status_label",
            "created_by",
            "created_at",
            "updated_at",
            "submitted_at",
            "submitted_by",
            "reviewed_at",
            "reviewed_by",
            "review_comment",
            "late_baseline_warning",
            "version",
        ]
        read_only_fields = fields
        list_serializer_class = BenefitReportListSerializer

    def get_has_attachment(self, obj) -> bool:
        return bool(obj.attachment)

    def get_late_baseline_warning(self, obj) -> str:
        warnings = self.context.get(LATE_BASELINE_WARNINGS)
        if warnings is None:
            return late_baseline_warning(obj)
        return warnings.get(obj.pk, "")


class BenefitReportWriteSerializer(serializers.Serializer):
    """A measurement as sent on create, or the fields that change on PATCH."""

    benefit = serializers.PrimaryKeyRelatedField(queryset=Benefit.objects.all())
    municipality = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Municipality.objects.none(),
        required=False,
        help_text=_(
            "Number of a municipality you may report for; taken from the organisation when "
            "one is given."
        ),
    )
    organisation = serializers.SlugRelatedField(
        slug_field="orgnr",
        queryset=Organisation.objects.none(),
        required=False,
        allow_null=True,
        help_text=_("Organisation number; leave out when the municipality reports as a whole."),
    )
    kind = EnumChoiceField(MeasurementKind)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    value = serializers.DecimalField(max_digits=12, decimal_places=2)
    method = serializers.CharField(max_length=300)
    evidence = serializers.CharField(required=False, allow_blank=True)
    attachment = serializers.FileField(
        required=False, help_text=_("Documentation as PDF, at most 10 MB (multipart only).")
    )

    def get_fields(self):
        fields = super().get_fields()
        user = request_user(self)
        fields["municipality"].queryset = Municipality.objects.editable_by(user)
        fields["organisation"].queryset = Organisation.objects.editable_by(user)
        return fields

    def validate(self, attrs):
        if not self.partial and not attrs.get("municipality") and not attrs.get("organisation"):
            raise serializers.ValidationError(
                {"municipality": _("Give the municipality or the organisation that reports.")}
            )
        return attrs


# --- coverage targets -----------------------------------------------------------------


class FiguresSerializer(serializers.Serializer):
    """A snapshot's figures: how many count out of how many, on a day."""

    day = serializers.DateField()
    numerator = serializers.IntegerField(help_text=_("How many count (achieved)."))
    denominator = serializers.IntegerField(help_text=_("Out of how many."))
    ratio = serializers.FloatField(
        allow_null=True, help_text=_("numerator / denominator; null when nothing is counted.")
    )


def figures(day, numerator, denominator) -> dict | None:
    if day is None:
        return None
    ratio = numerator / denominator if denominator else None
    return {"day": day, "numerator": numerator, "denominator": denominator, "ratio": ratio}


class CoverageTargetSerializer(serializers.ModelSerializer):
    solution = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("Code of the solution.")
    )
    solution_name = serializers.CharField(source="solution.name", read_only=True)
    unit = EnumChoiceField(TargetUnit, read_only=True)
    unit_label = ChoiceLabelField(source="unit")
    organisation_types = serializers.SerializerMethodField(
        help_text=_("Codes of the organisation types counted.")
    )
    achieved_statuses = serializers.ListField(
        child=EnumChoiceField(Status),
        read_only=True,
        help_text=_("The rollout statuses that count as achieved."),
    )
    denominator = EnumChoiceField(Denominator, read_only=True)
    denominator_label = ChoiceLabelField(source="denominator")
    municipality_rule = EnumChoiceField(MunicipalityRule, read_only=True)
    municipality_rule_label = ChoiceLabelField(source="municipality_rule")
    national = serializers.SerializerMethodField(
        help_text=_("The latest national figures; null before the first computation.")
    )

    class Meta:
        model = CoverageTarget
        fields = [
            "id",
            "code",
            "name",
            "description",
            "source",
            "solution",
            "solution_name",
            "unit",
            "unit_label",
            "organisation_types",
            "achieved_statuses",
            "denominator",
            "denominator_label",
            "municipality_rule",
            "municipality_rule_label",
            "threshold",
            "deadline",
            "per_area",
            "sort_order",
            "is_active",
            "version",
            "national",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=EnumChoiceField(OrganisationTypeCode)))
    def get_organisation_types(self, obj):
        return [t.code for t in obj.organisation_types.all()]

    @extend_schema_field(FiguresSerializer(allow_null=True))
    def get_national(self, obj):
        # Annotated by the viewset's queryset (one query for the whole page).
        return figures(
            getattr(obj, "national_day", None),
            getattr(obj, "national_numerator", None),
            getattr(obj, "national_denominator", None),
        )


class ScopeSerializer(serializers.Serializer):
    level = EnumChoiceField(Level)
    level_label = serializers.SerializerMethodField()
    scope_id = serializers.IntegerField(help_text=_("0 for the nation."))
    key = serializers.CharField(
        help_text=_("nation, rha:<code>, area:<code>, county:<number> or municipality:<number>")
    )
    name = serializers.CharField()

    def get_level_label(self, obj) -> str:
        return str(Level(obj.level).label)


class ForecastSerializer(serializers.Serializer):
    verdict = EnumChoiceField(Verdict)
    verdict_label = serializers.CharField()
    current = serializers.FloatField(allow_null=True, help_text=_("The latest ratio."))
    pace_per_month = serializers.FloatField(
        allow_null=True,
        help_text=_("Share points gained per 30 days, fitted over the last twelve months."),
    )
    needed_per_month = serializers.FloatField(
        allow_null=True, help_text=_("Share points needed per 30 days to make the deadline.")
    )
    projected = serializers.DateField(
        allow_null=True, help_text=_("When the threshold is reached at the current pace.")
    )
    points = serializers.IntegerField(help_text=_("Snapshots the pace is fitted over."))
    message = serializers.CharField()


class TargetStatusSerializer(serializers.Serializer):
    target = serializers.CharField(source="target.code", help_text=_("Code of the target."))
    target_name = serializers.CharField(source="target.name")
    scope = ScopeSerializer()
    threshold = serializers.DecimalField(source="target.threshold", max_digits=4, decimal_places=3)
    deadline = serializers.DateField(source="target.deadline")
    latest = serializers.SerializerMethodField(
        help_text=_("The latest figures at this place; null before the first computation.")
    )
    gap = serializers.IntegerField(help_text=_("How many more must count to reach the threshold."))
    forecast = ForecastSerializer()
    series = serializers.SerializerMethodField(help_text=_("Every snapshot at this place."))

    @extend_schema_field(FiguresSerializer(allow_null=True))
    def get_latest(self, obj):
        return figures(*obj.latest) if obj.latest else None

    @extend_schema_field(FiguresSerializer(many=True))
    def get_series(self, obj):
        return [figures(day, num, den) for day, num, den in obj.series]


class CoverageRecomputeSerializer(serializers.Serializer):
    targets = serializers.ListField(
        child=serializers.CharField(max_length=50),
        required=False,
        help_text=_("Target codes; leave out for every active target."),
    )
    day = serializers.DateField(
        required=False, allow_null=True, help_text=_("The day to compute; today when left out.")
    )


class CoverageBackfillSerializer(serializers.Serializer):
    targets = serializers.ListField(
        child=serializers.CharField(max_length=50),
        required=False,
        help_text=_("Target codes; leave out for every active target."),
    )
    start = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_(
            "First day, not before the first day of status history; when left out, each "
            "target's first day of history."
        ),
    )
    end = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("Last day (included), not after today; today when left out."),
    )
    every = serializers.ChoiceField(
        choices=list(services.EVERY),
        default="month",
        help_text=_(
            "A snapshot every day, every Sunday or every month end. One job computes at "
            "most COVERAGE_BACKFILL_MAX_DAYS snapshot days (default 1827)."
        ),
    )


class JobStartedSerializer(serializers.Serializer):
    job = serializers.IntegerField(help_text=_("The job's id."))
    url = serializers.CharField(help_text=_("Where to follow its progress."))
    state = JobChoiceField(Job.State)


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["national", "area", "municipality"],
        help_text=_("national (for those who see everything), area or municipality."),
    )
    scope = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_("For area and municipality reports: area:<code> or municipality:<number>."),
    )
    since = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("Changes since this day; the start of the previous quarter when left out."),
    )
    format = serializers.ChoiceField(choices=["xlsx", "csv", "pdf"])


class CoverageSnapshotSerializer(serializers.ModelSerializer):
    target = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("Code of the target.")
    )
    level = EnumChoiceField(Level, read_only=True)
    scope_key = serializers.SerializerMethodField(
        help_text=_("nation, rha:<code>, area:<code>, county:<number> or municipality:<number>")
    )
    scope_name = serializers.SerializerMethodField()
    ratio = serializers.SerializerMethodField(
        help_text=_("numerator / denominator; null when nothing is counted.")
    )

    class Meta:
        model = CoverageSnapshot
        fields = [
            "id",
            "target",
            "day",
            "level",
            "scope_id",
            "scope_key",
            "scope_name",
            "numerator",
            "denominator",
            "ratio",
        ]
        read_only_fields = fields

    def _place(self, obj):
        # {(level, scope id): ScopeRef}, built once per page by the viewset.
        return self.context.get("places", {}).get((obj.level, obj.scope_id))

    def get_scope_key(self, obj) -> str:
        place = self._place(obj)
        return place.key if place else f"{obj.level}:{obj.scope_id}"

    def get_scope_name(self, obj) -> str:
        place = self._place(obj)
        return place.name if place else ""

    def get_ratio(self, obj) -> float | None:
        return obj.numerator / obj.denominator if obj.denominator else None
