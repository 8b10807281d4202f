"""Serializers of the rollout API. Output serializers describe the stored rows; the input
serializers only check the shape of a request, the rules live in rollout.services."""

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from actors.api.fields import ChoiceLabelField, EnumChoiceField, UserField, key_list
from actors.api.review import ReviewedReportSerializer
from actors.api.serializers import absolute_url, request_user
from actors.choices import OrganisationTypeCode
from actors.models import HealthTrust, Municipality, Organisation

from .. import readiness
from ..bulk import WHY
from ..choices import Answer, Phase, PrerequisiteScope, Source, Status, StatusChangeKind
from ..models import (
    AreaRollout,
    PhaseChange,
    ReadinessAnswer,
    ReadinessReport,
    RolloutStatus,
    Solution,
    StatusChange,
)

# --- solutions and phases -------------------------------------------------------------


class SolutionSerializer(serializers.ModelSerializer):
    organisation_types = serializers.SerializerMethodField(
        help_text=_("The organisation types it applies to.")
    )
    requires = key_list("code", help_text=_("Codes of the solutions that must be in use first."))
    national_phase = EnumChoiceField(Phase, read_only=True)
    national_phase_label = ChoiceLabelField(source="national_phase")

    class Meta:
        model = Solution
        fields = [
            "id",
            "code",
            "name",
            "short_name",
            "description",
            "area_wise",
            "organisation_types",
            "requires",
            "national_phase",
            "national_phase_label",
            "ready_share_threshold",
            "agreement_share_threshold",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=EnumChoiceField(OrganisationTypeCode)))
    def get_organisation_types(self, obj):
        return [t.code for t in obj.organisation_types.all()]


class SolutionPhaseSerializer(serializers.Serializer):
    national_phase = EnumChoiceField(Phase)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class PhaseChangeSerializer(serializers.ModelSerializer):
    solution = serializers.SlugRelatedField(slug_field="code", read_only=True)
    health_trust = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        help_text=_("The area whose phase changed; null for the national phase."),
    )
    from_phase = EnumChoiceField(Phase, read_only=True)
    from_phase_label = ChoiceLabelField(source="from_phase")
    to_phase = EnumChoiceField(Phase, read_only=True)
    to_phase_label = ChoiceLabelField(source="to_phase")
    changed_by = UserField()

    class Meta:
        model = PhaseChange
        fields = [
            "id",
            "solution",
            "health_trust",
            "from_phase",
            "from_phase_label",
            "to_phase",
            "to_phase_label",
            "note",
            "changed_at",
            "changed_by",
        ]
        read_only_fields = fields


# --- area rollouts --------------------------------------------------------------------


class ConditionSerializer(serializers.Serializer):
    name = serializers.CharField()
    passed = serializers.BooleanField()
    detail = serializers.CharField()


class AreaReadinessSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    ready = serializers.IntegerField()
    ready_share = serializers.FloatField()
    agreement_covered = serializers.IntegerField()
    can_start = serializers.BooleanField()
    conditions = ConditionSerializer(many=True)


class AreaRolloutSerializer(serializers.ModelSerializer):
    """An area rollout; on create `solution` and `health_trust` name it by code."""

    solution = serializers.SlugRelatedField(slug_field="code", queryset=Solution.objects.all())
    health_trust = serializers.SlugRelatedField(
        slug_field="code", queryset=HealthTrust.objects.none()
    )
    health_trust_name = serializers.CharField(source="health_trust.name", read_only=True)
    phase = EnumChoiceField(Phase, required=False)
    phase_label = ChoiceLabelField(source="phase")

    class Meta:
        model = AreaRollout
        fields = [
            "id",
            "solution",
            "health_trust",
            "health_trust_name",
            "phase",
            "phase_label",
            "planned_start",
            "actual_start",
            "decision_date",
            "decision_reference",
            "decision_note",
            "version",
            "updated_at",
        ]
        read_only_fields = ["version", "updated_at"]
        # No unique-together check here: an existing rollout answers 409 in the view, and
        # only if the user can see it.
        validators: list = []

    def get_fields(self):
        fields = super().get_fields()
        # Only areas the user can see can be named (others answer as unknown).
        fields["health_trust"].queryset = HealthTrust.objects.visible_to(request_user(self))
        return fields


class AreaRolloutDetailSerializer(AreaRolloutSerializer):
    readiness = serializers.SerializerMethodField(
        help_text=_("Whether the area is ready to start, condition by condition.")
    )

    class Meta(AreaRolloutSerializer.Meta):
        fields = [*AreaRolloutSerializer.Meta.fields, "readiness"]

    @extend_schema_field(AreaReadinessSerializer)
    def get_readiness(self, obj):
        from ..selectors import area_readiness

        readiness = area_readiness(obj.solution, obj.health_trust, request_user(self))
        return AreaReadinessSerializer(
            {
                "total": readiness.total,
                "ready": readiness.ready,
                "ready_share": readiness.ready_share,
                "agreement_covered": readiness.agreement_covered,
                "can_start": readiness.can_start,
                "conditions": readiness.conditions,
            }
        ).data


class AreaRolloutUpdateSerializer(serializers.ModelSerializer):
    """The editable part of an area rollout (solution and area are fixed)."""

    phase = EnumChoiceField(Phase, required=False)

    class Meta:
        model = AreaRollout
        fields = [
            "phase",
            "planned_start",
            "actual_start",
            "decision_date",
            "decision_reference",
            "decision_note",
        ]


# --- statuses -------------------------------------------------------------------------


# The organisation and solution fields a status and a status as of a day share (a
# comment, not a docstring: the schema would take it as a description).
class _OrganisationSolution(serializers.ModelSerializer):
    orgnr = serializers.CharField(source="organisation.orgnr", read_only=True)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    solution = serializers.SlugRelatedField(slug_field="code", read_only=True)


class RolloutStatusSerializer(_OrganisationSolution):
    status = EnumChoiceField(Status, read_only=True)
    status_label = ChoiceLabelField(source="status")

    class Meta:
        model = RolloutStatus
        fields = [
            "id",
            "organisation",
            "orgnr",
            "organisation_name",
            "solution",
            "status",
            "status_label",
            "reason",
            "effective_date",
            "version",
            "updated_at",
        ]
        read_only_fields = fields


class RolloutStatusAsOfSerializer(_OrganisationSolution):
    """A status as it stood at the end of a past day (`?as_of=`), read from the history:
    the change that set it. Pairs without a change by then had not started and are not
    listed, as today's list leaves out organisations without a stored status."""

    status = EnumChoiceField(Status, source="to_status", read_only=True)
    status_label = ChoiceLabelField(source="to_status")
    effective_date = serializers.DateField(
        read_only=True, help_text=_("The day the status took effect (on or before as_of).")
    )
    change = serializers.IntegerField(
        source="pk", read_only=True, help_text=_("The status-history entry that set it.")
    )
    as_of = serializers.SerializerMethodField(help_text=_("The day the status is shown for."))

    class Meta:
        model = StatusChange
        fields = [
            "organisation",
            "orgnr",
            "organisation_name",
            "solution",
            "status",
            "status_label",
            "reason",
            "effective_date",
            "change",
            "as_of",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateField())
    def get_as_of(self, obj):
        return self.context["as_of"].isoformat()


class StatusChangeInputSerializer(serializers.Serializer):
    status = EnumChoiceField(Status)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    effective_date = serializers.DateField(
        required=False, allow_null=True, default=None, help_text=_("Today when omitted.")
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "Coordinators only: why the change may go through although a prerequisite "
            "(e.g. kjernejournal in use) is unmet."
        ),
    )
    confirm_jump = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Must be true for a change forward that skips steps (e.g. ikke_startet → i_bruk, "
            "skipping planlegging, teknisk_klar and i_utproving): it confirms that the "
            "status really went straight to the new one, on `effective_date`. Without it "
            "such a change answers 400 under `confirm_jump`."
        ),
    )


class StatusCorrectionSerializer(serializers.Serializer):
    """A coordinator's correction of a wrong status: the latest history entry is replaced
    by `status` from `effective_date` on (any status, whatever transitions allow); the
    history keeps both entries and marks the first as corrected."""

    status = EnumChoiceField(Status)
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("Required: why.")
    )
    effective_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "The day the corrected status holds from: the corrected entry's date (when "
            "omitted) or later, not in the future."
        ),
    )


class RolloutStatusCreateSerializer(StatusChangeInputSerializer):
    """The first status of an organisation for a solution."""

    organisation = serializers.SlugRelatedField(
        slug_field="orgnr",
        queryset=Organisation.objects.none(),
        help_text=_("Organisation number of an organisation you may edit."),
    )
    solution = serializers.SlugRelatedField(slug_field="code", queryset=Solution.objects.all())

    def get_fields(self):
        fields = super().get_fields()
        fields["organisation"].queryset = Organisation.objects.editable_by(request_user(self))
        return fields


class StatusBulkSerializer(StatusChangeInputSerializer):
    confirm_jump = None  # bulk changes do not ask for it (yet)
    solution = serializers.SlugRelatedField(slug_field="code", queryset=Solution.objects.all())
    organisations = serializers.ListField(
        child=serializers.CharField(max_length=9),
        allow_empty=False,
        help_text=_("Organisation numbers."),
    )
    dry_run = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Check every change and report the outcome without saving anything."),
    )
    allowed_only = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Save the allowed changes and leave the refused ones as they are, instead of all "
            "or nothing; the answer lists both (`changes`, `refused`). With `dry_run`: a "
            "preview of what would change and what would be refused, and why."
        ),
    )


class StatusBulkChangeSerializer(serializers.Serializer):
    orgnr = serializers.CharField()
    name = serializers.CharField()
    from_status = EnumChoiceField(Status)


class StatusBulkRefusalSerializer(StatusBulkChangeSerializer):
    reason_code = serializers.ChoiceField(
        choices=list(WHY), help_text=_("Which rule refused the change.")
    )
    message = serializers.CharField()


class StatusBulkResultSerializer(serializers.Serializer):
    """How many changed (with `dry_run`: would change) and how many had the status already;
    with `allowed_only` also each change and each refusal."""

    changed = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    allowed_only = serializers.BooleanField(required=False, help_text=_("With allowed_only."))
    changes = StatusBulkChangeSerializer(
        many=True, required=False, help_text=_("With allowed_only: the changes (to be) saved.")
    )
    refused = StatusBulkRefusalSerializer(
        many=True, required=False, help_text=_("With allowed_only: the changes refused.")
    )


class StatusBulkErrorSerializer(serializers.Serializer):
    orgnr = serializers.CharField()
    name = serializers.CharField()
    message = serializers.CharField()


class StatusBulkErrorsSerializer(serializers.Serializer):
    """Why nothing was saved: the refused changes (`errors`), the organisation numbers
    not found in your scope (`unknown`, with a message under `organisations`), or the
    fields of the request to correct (field name → messages)."""

    errors = StatusBulkErrorSerializer(many=True, required=False)
    unknown = serializers.ListField(child=serializers.CharField(), required=False)


class StatusChangeSerializer(serializers.ModelSerializer):
    orgnr = serializers.CharField(source="organisation.orgnr", read_only=True)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    solution = serializers.SlugRelatedField(slug_field="code", read_only=True)
    from_status = EnumChoiceField(Status, read_only=True)
    from_status_label = ChoiceLabelField(source="from_status")
    to_status = EnumChoiceField(Status, read_only=True)
    to_status_label = ChoiceLabelField(source="to_status")
    source = EnumChoiceField(Source, read_only=True)
    changed_by = UserField()
    kind = EnumChoiceField(StatusChangeKind, read_only=True)
    corrects = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text=_("A correction: the wrong entry it replaces (null: none, or drift recorded)."),
    )
    corrected_by = serializers.IntegerField(
        source="first_correction",
        read_only=True,
        allow_null=True,
        default=None,
        help_text=_("The first correction of this entry (null: not corrected)."),
    )

    class Meta:
        model = StatusChange
        fields = [
            "id",
            "organisation",
            "orgnr",
            "organisation_name",
            "solution",
            "from_status",
            "from_status_label",
            "to_status",
            "to_status_label",
            "reason",
            "effective_date",
            "changed_at",
            "changed_by",
            "source",
            "prerequisite_override",
            "kind",
            "corrects",
            "corrected_by",
        ]
        read_only_fields = fields


# --- readiness reports ----------------------------------------------------------------


class ReadinessAnswerSerializer(serializers.ModelSerializer):
    prerequisite_text = serializers.CharField(source="prerequisite.text", read_only=True)
    scope = EnumChoiceField(PrerequisiteScope, source="prerequisite.scope", read_only=True)
    answer = EnumChoiceField(Answer, allow_blank=True, read_only=True)
    organisation_name = serializers.CharField(
        source="organisation.name", read_only=True, allow_null=True, default=None
    )
    from_status = EnumChoiceField(
        Status,
        allow_blank=True,
        read_only=True,
        help_text=_(
            "The organisation's status the answer follows from (the item is not asked); "
            "empty when the municipality answers it."
        ),
    )

    class Meta:
        model = ReadinessAnswer
        fields = [
            "id",
            "prerequisite",
            "prerequisite_text",
            "scope",
            "organisation",
            "organisation_name",
            "answer",
            "comment",
            "expected_date",
            "from_status",
        ]
        read_only_fields = fields


class ReadinessReportSerializer(ReviewedReportSerializer, serializers.ModelSerializer):
    solution = serializers.SlugRelatedField(slug_field="code", read_only=True)
    municipality = serializers.SlugRelatedField(slug_field="number", read_only=True)
    municipality_name = serializers.CharField(source="municipality.name", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    answers = ReadinessAnswerSerializer(many=True, read_only=True)

    class Meta:
        model = ReadinessReport
        fields = [
            "id",
            "solution",
            "municipality",
            "municipality_name",
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
            "version",
            "answers",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if "answers" in data and instance.is_editable:
            # While it can be changed, the items that follow from a status follow the
            # statuses as they stand now (rollout/readiness.py), as on the page.
            rows = {r.id: r for r in readiness.report_rows(instance, live=True)}
            for answer in data["answers"]:
                row = rows.get(answer["id"])
                if row is not None:
                    answer["answer"], answer["from_status"] = row.answer, row.from_status
                    answer["expected_date"] = (
                        row.expected_date.isoformat() if row.expected_date else None
                    )
        return data


class AnswerCountsSerializer(serializers.Serializer):
    """How far a readiness report's answers have come."""

    total = serializers.IntegerField(help_text=_("Questions in the report."))
    ready = serializers.IntegerField(help_text=_("Answered ready."))
    not_ready = serializers.IntegerField(help_text=_("Answered not ready."))
    not_relevant = serializers.IntegerField(help_text=_("Answered not relevant."))
    unanswered = serializers.IntegerField(help_text=_("Not answered yet."))


COUNTED = {
    Answer.READY: "ready",
    Answer.NOT_READY: "not_ready",
    Answer.NOT_RELEVANT: "not_relevant",
    "": "unanswered",
}


def answer_counts(report_ids) -> dict[int, dict[str, int]]:
    """{report id: AnswerCountsSerializer's figures}, counted in one grouped query."""
    counts = {pk: dict.fromkeys(["total", *COUNTED.values()], 0) for pk in report_ids}
    rows = (
        ReadinessAnswer.objects.filter(report_id__in=counts)
        .values_list("report_id", "answer")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for report_id, answer, n in rows:
        counts[report_id][COUNTED.get(answer, "unanswered")] += n
        counts[report_id]["total"] += n
    return counts


class CountedReports(serializers.ListSerializer):
    """A page of reports with the answer counts of all of them read at once."""

    def to_representation(self, data):
        reports = list(data)
        self.answer_counts = answer_counts([report.pk for report in reports])
        return super().to_representation(reports)


class ReadinessReportListSerializer(ReadinessReportSerializer):
    """A report as listed: its answers counted, not shown; `url` (the detail) has them."""

    url = serializers.SerializerMethodField(help_text=_("The report with its answers."))
    answer_counts = serializers.SerializerMethodField()

    class Meta(ReadinessReportSerializer.Meta):
        fields = [
            *(f for f in ReadinessReportSerializer.Meta.fields if f != "answers"),
            "url",
            "answer_counts",
        ]
        read_only_fields = fields
        list_serializer_class = CountedReports

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj) -> str:
        return absolute_url(self, reverse("readinessreport-detail", args=[obj.pk]))

    @extend_schema_field(AnswerCountsSerializer)
    def get_answer_counts(self, obj):
        counted = getattr(self.parent, "answer_counts", None)
        if counted is None or obj.pk not in counted:
            counted = answer_counts([obj.pk])
        return counted[obj.pk]


class ReadinessReportCreateSerializer(serializers.Serializer):
    solution = serializers.SlugRelatedField(slug_field="code", queryset=Solution.objects.all())
    municipality = serializers.SlugRelatedField(
        slug_field="number",
        queryset=Municipality.objects.none(),
        help_text=_("Number of a municipality you may report for."),
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["municipality"].queryset = Municipality.objects.editable_by(request_user(self))
        return fields


class AnswerInputSerializer(serializers.Serializer):
    """One answer; fields left out keep their saved value."""

    id = serializers.IntegerField()
    answer = EnumChoiceField(Answer, allow_blank=True, required=False)
    comment = serializers.CharField(max_length=500, allow_blank=True, required=False)
    expected_date = serializers.DateField(allow_null=True, required=False)


class ReadinessAnswersSerializer(serializers.Serializer):
    answers = AnswerInputSerializer(many=True, allow_empty=False)
