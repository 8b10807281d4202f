"""One pagination for every API list: page numbers for the first pages, keyset cursors for
everything deeper (issue 17).

`?page=N` answers as before, with `count`. The `next` and `previous` links of every page
are cursors (`?cursor=…`): the ordering key of the page's last (or first) row, signed, so
following `next` at any depth is an index range scan from that row rather than an OFFSET.
The ordering is the queryset's after filtering (`?ordering=` where an endpoint offers it,
otherwise its default), with the primary key added as a tie-breaker unless the keys are
unique already. A cursor is only a position: the queryset stays the user's scope, and a
cursor that was altered, or made for another list or ordering, answers 400.

An ordering that starts with a column of a small related table (organisations by type,
municipality or health-trust area, where the view lists the relation in
`keyset_groups`) is read group by group on PostgreSQL (`Grouped`): each group's rows
through its own index, the groups in their order, so no page sorts the whole list.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass
from itertools import takewhile

from django.core import signing
from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, models
from django.db.models import F, Func, Q, Value
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination, _positive_int
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import remove_query_param, replace_query_param

SALT = "actors.api.pagination.cursor"
MAX_CURSOR_LENGTH = 2000
MAX_OFFSET = 2**40

BAD_CURSOR = _(
    "This cursor is not valid (altered or cut short). Follow the `next` or `previous` link "
    "of a page as it is, or start again without `cursor`."
)
OTHER_LIST = _(
    "This cursor belongs to another list or ordering. Start again without `cursor`, with "
    "the filters and `ordering` you want."
)


@dataclass(frozen=True)
class Key:
    """One column of the ordering: a field path, its direction and whether it may be NULL
    (NULLs sort last ascending and first descending, as PostgreSQL does, on every
    database)."""

    path: str
    descending: bool
    field: models.Field
    nullable: bool

    @property
    def name(self) -> str:
        return f"-{self.path}" if self.descending else self.path

    def order_by(self, reverse: bool = False):
        descending = self.descending != reverse
        if not self.nullable:
            return f"-{self.path}" if descending else self.path
        if descending:
            return F(self.path).desc(nulls_first=True)
        return F(self.path).asc(nulls_last=True)

    def value_of(self, row):
        value = row
        for part in self.path.split(LOOKUP_SEP):
            if value is None:
                return None
            value = getattr(value, part)
        return value

    def equal(self, value) -> Q:
        return Q(**{f"{self.path}__isnull": True} if value is None else {self.path: value})

    def beyond(self, value, greater: bool) -> Q:
        """Rows after `value` in this column alone (NULL counts as the largest value)."""
        if greater:
            if value is None:
                return Q(pk__in=[])
            after = Q(**{f"{self.path}__gt": value})
            return after | Q(**{f"{self.path}__isnull": True}) if self.nullable else after
        if value is None:
            return Q(**{f"{self.path}__isnull": False})
        return Q(**{f"{self.path}__lt": value})

    def encode(self, value):
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()
        if isinstance(value, decimal.Decimal | uuid.UUID):
            return str(value)
        return value

    def decode(self, value):
        return None if value is None else self.field.to_python(value)


def _resolve(model, path: str) -> tuple[models.Field, bool]:
    """The field at the end of `path` and whether the path can end in NULL."""
    nullable = False
    field = None
    parts = path.split(LOOKUP_SEP)
    for i, part in enumerate(parts):
        field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        if field.many_to_many or field.one_to_many:
            raise ImproperlyConfigured(f"Cannot page by the to-many path {path!r}.")
        nullable |= bool(getattr(field, "null", False))
        if field.is_relation and i < len(parts) - 1:
            model = field.related_model
    return field, nullable


def _expand(model, name: str, depth: int = 0) -> list[tuple[str, bool]]:
    """[(path, descending)] of one ordering entry; a relation stands for the related
    model's own ordering, as in Django's ORDER BY."""
    descending = name.startswith("-")
    path = name.lstrip("-")
    field, _nullable = _resolve(model, path)
    if not field.is_relation or path.endswith(f"{LOOKUP_SEP}pk") or path == "pk":
        return [(path, descending)]
    if field.attname == path.split(LOOKUP_SEP)[-1] and path.endswith("_id"):
        return [(path, descending)]
    related = field.related_model
    ordering = related._meta.ordering
    if not ordering or depth > 3:
        return [(f"{path}{LOOKUP_SEP}pk", descending)]
    keys = []
    for entry in ordering:
        for sub, sub_descending in _expand(related, entry, depth + 1):
            keys.append((f"{path}{LOOKUP_SEP}{sub}", sub_descending != descending))
    return keys


def _entry_name(entry) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, F):
        return entry.name
    if isinstance(entry, models.OrderBy) and isinstance(entry.expression, F):
        return f"-{entry.expression.name}" if entry.descending else entry.expression.name
    raise ImproperlyConfigured(f"Cannot page by the ordering {entry!r}.")


def _is_unique(model, keys: list[Key]) -> bool:
    """Whether the keys name a unique row: the primary key, a unique field or a unique
    constraint among the local NOT NULL columns of the ordering."""
    local = set()
    for key in keys:
        parts = key.path.split(LOOKUP_SEP)
        if len(parts) == 2 and parts[1] == "pk" or len(parts) == 1:
            field = model._meta.pk if parts[0] == "pk" else model._meta.get_field(parts[0])
            if not key.nullable:
                local.add(field.name)
    if model._meta.pk.name in local:
        return True
    for field in model._meta.concrete_fields:
        if field.unique and field.name in local:
            return True
    sets = [set(fields) for fields in model._meta.unique_together]
    sets += [
        set(c.fields)
        for c in model._meta.total_unique_constraints  # without a condition
    ]
    return any(fields and fields <= local for fields in sets)


def ordering_keys(queryset) -> list[Key]:
    """The queryset's ordering as keys, with the primary key as the last tie-breaker
    (in the direction of the key before it) unless the ordering is unique already."""
    model = queryset.model
    query = queryset.query
    entries = list(query.order_by) or (list(model._meta.ordering) if query.default_ordering else [])
    paths: list[tuple[str, bool]] = []
    for entry in entries:
        for path, descending in _expand(model, _entry_name(entry)):
            if path == "?":
                raise ImproperlyConfigured("Cannot page by a random ordering.")
            if path not in (p for p, _d in paths):
                paths.append((path, descending))
    keys = [Key(path, descending, *_resolve(model, path)) for path, descending in paths]
    if not _is_unique(model, keys):
        descending = keys[-1].descending if keys else False
        keys.append(Key("pk", descending, model._meta.pk, False))
    return keys


class RowBound(Func):
    """`(a, b, c) > (x, y, z)`: one row comparison, which PostgreSQL starts an index range
    with when the columns lead an index (SQLite understands it too)."""

    output_field = models.BooleanField()

    def __init__(self, keys: list[Key], values: list, operator: str):
        columns = [F(key.path) for key in keys]
        literals = [Value(v, output_field=k.field) for k, v in zip(keys, values, strict=True)]
        super().__init__(*columns, *literals)
        self.operator = operator

    def as_sql(self, compiler, connection, **extra):
        sqls, params = [], []
        for expression in self.get_source_expressions():
            sql, expression_params = compiler.compile(expression)
            sqls.append(sql)
            params.extend(expression_params)
        half = len(sqls) // 2
        return f"({', '.join(sqls[:half])}) {self.operator} ({', '.join(sqls[half:])})", params


def _run(keys: list[Key]) -> list[Key]:
    """The leading keys that one row comparison can bound: NOT NULL, the same direction,
    columns of the same table."""

    def table(key):
        return key.path.rpartition(LOOKUP_SEP)[0]

    run = []
    for key in keys:
        first = run[0] if run else key
        if key.nullable or (key.descending, table(key)) != (first.descending, table(first)):
            break
        run.append(key)
    return run


def after(keys: list[Key], values: list, backwards: bool = False) -> Q:
    """The rows that follow the position `values` in the order of `keys` (precede it, with
    `backwards`). When the keys are columns of one table in one direction, that is a single
    row comparison; otherwise the first key beyond, or equal on it and the next key beyond,
    and so on, under a row comparison of the leading keys, so the database can start an
    index range there."""
    run = _run(keys)
    greater = not run or run[0].descending == backwards
    if len(run) == len(keys):
        return Q(RowBound(keys, values, ">" if greater else "<"))
    condition = Q(pk__in=[])
    for i, key in enumerate(keys):
        step = Q()
        for previous, value in zip(keys[:i], values[:i], strict=True):
            step &= previous.equal(value)
        condition |= step & key.beyond(values[i], greater=key.descending == backwards)
    if run:
        condition = Q(RowBound(run, values[: len(run)], ">=" if greater else "<=")) & condition
    return condition


def _joins(queryset, model) -> bool:
    """Whether the queryset's filters join `model`'s table."""
    query = queryset.query
    return any(
        join.table_name == model._meta.db_table and query.alias_refcount.get(alias)
        for alias, join in query.alias_map.items()
    )


class _OfGroup(Func):
    """The row belongs to the group the lateral join is at (`_group`, see Grouped)."""

    template = '%(expressions)s = "_group"."id"'
    output_field = models.BooleanField()


class _GroupIsFirst(Func):
    """The lateral join is at a group of the cursor's position (`first`) or after it."""

    output_field = models.BooleanField()

    def __init__(self, first: bool):
        super().__init__()
        self.template = '"_group"."first"' if first else 'NOT "_group"."first"'


@dataclass(frozen=True)
class Grouped:
    """An ordering by columns of a related table (`lead`, e.g. the type's sort order) and
    then the model's own NOT NULL columns (`rest`, e.g. name and organisation number).

    The related rows are read first, in their order (a small table: types,
    municipalities, areas). One query then joins each of them, in that order (a LATERAL
    join over `unnest`), to at most as many of its rows as a page needs, read through
    an index on (relation, rest) and bounded by the cursor in the cursor's own group; an
    incremental sort merges groups whose lead values tie. It stops as soon as the page is
    full. PostgreSQL only; elsewhere the ordinary way answers."""

    relation: models.ForeignKey
    lead: list[Key]
    rest: list[Key]

    @classmethod
    def of(cls, queryset, keys: list[Key], relations) -> Grouped | None:
        """The grouped reading of `keys`, when they start with one of `relations` (names of
        NOT NULL foreign keys of the queryset's model) and every key is NOT NULL; None
        otherwise, and when a filter goes through the relation (a county's
        municipalities): then only the groups it keeps matter, and its rows sort fast."""
        name = keys[0].path.partition(LOOKUP_SEP)[0] if keys else None
        if connection.vendor != "postgresql" or name not in relations:
            return None
        prefix = f"{name}{LOOKUP_SEP}"
        lead = list(takewhile(lambda key: key.path.startswith(prefix), keys))
        rest = keys[len(lead) :]
        relation = queryset.model._meta.get_field(name)
        if (
            not lead
            or not isinstance(relation, models.ForeignKey)
            or relation.null
            or any(LOOKUP_SEP in key.path.removeprefix(prefix) for key in lead)
            or any(LOOKUP_SEP in key.path for key in rest)
            or any(key.nullable for key in keys)
            or _joins(queryset, relation.related_model)
        ):
            return None
        return cls(relation, lead, rest)

    def groups(self, reverse: bool) -> list[tuple]:
        """(pk, *lead values) of every related row, in the order of the list."""
        related = self.relation.related_model
        paths = [k.path.partition(LOOKUP_SEP)[2] for k in self.lead]
        order = [
            Key(path, k.descending, k.field, False).order_by(reverse)
            for path, k in zip(paths, self.lead, strict=True)
        ]
        return list(related._base_manager.order_by(*order, "pk").values_list("pk", *paths))

    def rows(self, queryset, size: int, *, position=None, backwards=False, offset=0):
        """`size` rows after `position` (before it, with `backwards`; from the start without
        one) and `offset` rows on, in the list's order, or None when `position` names a
        group that is no longer there (renamed since: the ordinary way answers)."""
        groups = self.groups(backwards)
        ids, ranks, firsts = [], [], []
        lead_at = tuple(position[: len(self.lead)]) if position is not None else None
        rank, previous, started = 0, object(), lead_at is None
        for pk, *lead in groups:
            lead = tuple(lead)
            if lead != previous:
                rank, previous = rank + 1, lead
            started = started or lead == lead_at
            if started:
                ids.append(pk)
                ranks.append(rank)
                firsts.append(lead == lead_at)
        if lead_at is not None and not any(firsts):
            return None
        if not ids:
            return []
        model = queryset.model
        names = list(dict.fromkeys([model._meta.pk.attname, *(k.field.attname for k in self.rest)]))
        order = [k.order_by(reverse=backwards) for k in self.rest]
        of_group = _OfGroup(F(self.relation.attname))
        limit = offset + size
        later = queryset.filter(of_group, _GroupIsFirst(False))
        branches = [later.order_by(*order).values_list(*names)[:limit]]
        if position is not None:
            bound = after(self.rest, list(position[len(self.lead) :]), backwards)
            first = queryset.filter(of_group, _GroupIsFirst(True)).filter(bound)
            branches.insert(0, first.order_by(*order).values_list(*names)[:limit])
        sqls, params = [], []
        for branch in branches:
            try:
                sql, branch_params = branch.query.sql_with_params()
            except EmptyResultSet:
                continue
            sqls.append(f"({sql})")
            params.extend(branch_params)
        if not sqls:
            return []
        quote = connection.ops.quote_name
        outer_order = ['"_group"."rank"']
        for key in self.rest:
            descending = key.descending != backwards
            outer_order.append(f"_rows.{quote(key.field.column)}{' DESC' if descending else ''}")
        pk_type = self.relation.target_field.rel_db_type(connection)
        # The first column of every branch is the primary key.
        sql = (
            f"SELECT _rows.{quote(model._meta.pk.column)} FROM (SELECT * FROM "
            f"unnest(%s::{pk_type}[], %s::integer[], %s::boolean[]) AS _g(id, rank, first) "
            f'ORDER BY rank) AS "_group" CROSS JOIN LATERAL ({" UNION ALL ".join(sqls)}) '
            f"AS _rows ORDER BY {', '.join(outer_order)} LIMIT %s OFFSET %s"
        )
        chosen = RawSQL(sql, [ids, ranks, firsts, *params, size, offset])
        keys = [*self.lead, *self.rest]
        return list(queryset.filter(pk__in=chosen).order_by(*(k.order_by(backwards) for k in keys)))


class KeysetPagination(BasePagination):
    """`?page=N` (with `count`) or `?cursor=` (from a page's `next`/`previous`), and
    `?page_size=` up to `max_page_size`."""

    page_size = api_settings.PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 1000
    page_query_param = "page"
    cursor_query_param = "cursor"
    # False for feeds that never count (the histories): their pages have no `count`.
    with_count = True
    # Count at most this many rows (null above it): for lists of millions of rows.
    count_limit: int | None = None

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.size = self.get_page_size(request)
        self.keys = ordering_keys(queryset)
        self.signature = [queryset.model._meta.label, *(key.name for key in self.keys)]
        self.grouped = Grouped.of(queryset, self.keys, getattr(view, "keyset_groups", ()))
        queryset = queryset.order_by(*(key.order_by() for key in self.keys))
        self.count = None
        token = request.query_params.get(self.cursor_query_param)
        self.rows = self._from_cursor(queryset, token) if token else self._from_page(queryset)
        return self.rows

    def _from_page(self, queryset) -> list:
        number = self.request.query_params.get(self.page_query_param) or "1"
        try:
            number = _positive_int(number, strict=True)
        except ValueError as exc:
            raise NotFound(_("Invalid page.")) from exc
        offset = (number - 1) * self.size
        if offset > MAX_OFFSET:  # beyond any list (and the database's integers)
            raise NotFound(_("Invalid page."))
        if self.grouped:
            rows = self.grouped.rows(queryset, self.size + 1, offset=offset)
        else:
            rows = list(queryset[offset : offset + self.size + 1])
        if number > 1 and not rows:
            raise NotFound(_("Invalid page."))
        self.has_next = len(rows) > self.size
        self.has_previous = number > 1
        if self.with_count:
            self.count = self._count(queryset)
        return rows[: self.size]

    def _count(self, queryset) -> int | None:
        if self.count_limit is None:
            return queryset.count()
        count = queryset.order_by()[: self.count_limit + 1].count()
        return count if count <= self.count_limit else None

    def _from_cursor(self, queryset, token: str) -> list:
        values, backwards = self.decode(token)
        rows = None
        if self.grouped:
            rows = self.grouped.rows(queryset, self.size + 1, position=values, backwards=backwards)
        if rows is None:
            order = [key.order_by(reverse=backwards) for key in self.keys]
            following = queryset.filter(after(self.keys, values, backwards)).order_by(*order)
            rows = list(following[: self.size + 1])
        more = len(rows) > self.size
        rows = rows[: self.size]
        self.position = values
        if backwards:
            rows.reverse()
            self.has_previous, self.has_next = more, True
        else:
            self.has_previous, self.has_next = True, more
        return rows

    # --- cursors ----------------------------------------------------------------------

    def encode(self, values: list, backwards: bool = False) -> str:
        payload = {
            "o": self.signature,
            "v": [key.encode(value) for key, value in zip(self.keys, values, strict=True)],
        }
        if backwards:
            payload["b"] = 1
        return signing.dumps(payload, salt=SALT, compress=True)

    def cursor_for(self, row, backwards: bool = False) -> str:
        """The cursor of the page after `row` (before it, with `backwards`)."""
        return self.encode([key.value_of(row) for key in self.keys], backwards)

    def decode(self, token: str) -> tuple[list, bool]:
        if len(token) > MAX_CURSOR_LENGTH:
            raise ValidationError({self.cursor_query_param: [BAD_CURSOR]})
        try:
            payload = signing.loads(token, salt=SALT)
            signature, raw = payload["o"], payload["v"]
            backwards = bool(payload.get("b"))
        except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
            raise ValidationError({self.cursor_query_param: [BAD_CURSOR]}) from exc
        if signature != self.signature or len(raw) != len(self.keys):
            raise ValidationError({self.cursor_query_param: [OTHER_LIST]})
        try:
            values = [key.decode(value) for key, value in zip(self.keys, raw, strict=True)]
        except (DjangoValidationError, TypeError, ValueError) as exc:
            raise ValidationError({self.cursor_query_param: [BAD_CURSOR]}) from exc
        return values, backwards

    # --- the answer -------------------------------------------------------------------

    def _link(self, values, backwards: bool) -> str:
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, self.encode(values, backwards))

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        if self.rows:
            return self._link([key.value_of(self.rows[-1]) for key in self.keys], False)
        return self._link(self.position, False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if self.rows:
            return self._link([key.value_of(self.rows[0]) for key in self.keys], True)
        return self._link(self.position, True)

    def get_paginated_response(self, data):
        fields = {"count": self.count} if self.with_count else {}
        fields.update(next=self.get_next_link(), previous=self.get_previous_link(), results=data)
        return Response(fields)

    def get_page_size(self, request) -> int:
        try:
            return _positive_int(
                request.query_params[self.page_size_query_param],
                strict=True,
                cutoff=self.max_page_size,
            )
        except (KeyError, ValueError):
            return self.page_size

    # --- the schema -------------------------------------------------------------------

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        properties = {}
        if self.with_count:
            limit = f" and when more than {self.count_limit} rows match" if self.count_limit else ""
            properties["count"] = {
                "type": "integer",
                "nullable": True,
                "example": 123,
                "description": "The number of rows matching the filters, on pages asked "
                f"for by number (the first page, `?page=N`); null on pages reached by "
                f"`cursor`{limit}.",
            }
        properties["next"] = {
            **link,
            "description": "The next page: a cursor link. Follow it as it is, at any "
            "depth (null on the last page).",
        }
        properties["previous"] = {
            **link,
            "description": "The page before: a cursor link (null on the first page).",
        }
        properties["results"] = schema
        required = ["count", "next", "previous", "results"] if self.with_count else None
        return {
            "type": "object",
            "required": required or ["next", "previous", "results"],
            "properties": properties,
        }

    def get_schema_operation_parameters(self, view):
        page = {
            "name": self.page_query_param,
            "required": False,
            "in": "query",
            "description": "A page number (from 1), with `count`. Fine for the first pages; "
            "to go deeper follow `next`, which costs the same at any depth.",
            "schema": {"type": "integer"},
        }
        cursor = {
            "name": self.cursor_query_param,
            "required": False,
            "in": "query",
            "description": "An opaque position from a page's `next` or `previous` link. "
            "Valid only with the filters and `ordering` of the page that gave it; an "
            "altered one answers 400.",
            "schema": {"type": "string"},
        }
        size = {
            "name": self.page_size_query_param,
            "required": False,
            "in": "query",
            "description": f"Rows per page (default {self.page_size}, at most "
            f"{self.max_page_size}).",
            "schema": {"type": "integer"},
        }
        return [page, cursor, size]


class FeedPagination(KeysetPagination):
    """Append-only histories, newest first: 100 rows a page, no `count`."""

    page_size = 100
    with_count = False
