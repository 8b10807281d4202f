"""API fields shared by the apps."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class EnumChoiceField(serializers.ChoiceField):
    """A choice field documented as one named enum per choice set (`PhaseChoice`,
    `StatusChoice`, …), whatever the field is called: `status`, `from_status` and
    `to_status` share one enum, and a report's `status` keeps its own. Subclasses set
    `prefix` where two apps have choice sets of the same name (`JobKindChoice`)."""

    prefix = ""

    def __init__(self, choices_class, **kwargs):
        self.choices_class = choices_class
        super().__init__(choices=choices_class.choices, **kwargs)


class EnumChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = EnumChoiceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        choices = field.choices_class
        component = ResolvedComponent(
            name=f"{field.prefix}{choices.__name__}Choice",
            type=ResolvedComponent.SCHEMA,
            schema={
                "type": "string",
                "enum": list(choices.values),
                "description": "\n".join(f"* `{c.value}` - {c.label}" for c in choices),
            },
            object=choices,
        )
        auto_schema.registry.register_on_missing(component)
        if not field.allow_blank:
            return component.ref
        blank = ResolvedComponent(
            name="BlankEnum", type=ResolvedComponent.SCHEMA, schema={"enum": [""]}, object="blank"
        )
        auto_schema.registry.register_on_missing(blank)
        return {"oneOf": [component.ref, blank.ref]}


class UserField(serializers.SlugRelatedField):
    """Who did something, by username; null where the system did it or nobody has yet."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)


@extend_schema_field(
    {"anyOf": [{"type": "string", "format": "email"}, {"type": "string", "maxLength": 0}]}
)
class OptionalEmailField(serializers.EmailField):
    """An e-mail address that may be empty: documented so that "" is valid too (a bare
    `format: email` would declare every empty address invalid)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)


class KeysOf(serializers.ListField):
    """The key field of each record of a list (a prefetched `to_attr` list), read-only."""

    def __init__(self, slug_field: str, **kwargs):
        self.slug_field = slug_field
        super().__init__(child=serializers.CharField(), read_only=True, **kwargs)

    def to_representation(self, data):
        return [getattr(item, self.slug_field) for item in data]


def key_list(
    slug_field: str, *, help_text, queryset=None, source=None
) -> serializers.ManyRelatedField | KeysOf:
    """Related records named by a key field (`number`, `orgnr`, `code`), many at once:
    read-only without a `queryset` (from the list at `source`, e.g. a prefetched
    `to_attr`, when given); with one, keys of its records, and none when left out."""
    if source is not None:
        return KeysOf(slug_field, source=source, help_text=help_text)
    if queryset is None:
        return serializers.SlugRelatedField(
            slug_field=slug_field, many=True, read_only=True, help_text=help_text
        )
    return serializers.SlugRelatedField(
        slug_field=slug_field, many=True, queryset=queryset, default=list, help_text=help_text
    )


class ChoiceLabelField(serializers.CharField):
    """The label of a model field's choice (`status_label` for `status`), read-only: the
    labels are looked up once per serializer, not with `get_FOO_display()` row by row
    (which costs an `inspect.signature` and a translation per row and field)."""

    def __init__(self, source: str, **kwargs):
        kwargs["read_only"] = True
        super().__init__(source=source, **kwargs)

    def to_representation(self, value):
        labels = self.__dict__.get("_labels")
        if labels is None:
            field = self.parent.Meta.model._meta.get_field(self.source)
            labels = self._labels = {key: str(label) for key, label in field.flatchoices}
        return labels.get(value, value)
