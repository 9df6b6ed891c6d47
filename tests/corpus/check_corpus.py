"""Differential tests on a corpus we did not write (run by tests/test_corpus.py with
``--ds tests.corpus.settings``; the file name keeps the main run from collecting it).

Every exposed model of the corpus apps is populated with generated rows; every list
is read over HTTP with every field and every relation (nested keys included) and
compared with the ORM asked directly; then hypothesis generates filters from each
lookup family, orderings by every orderable field and pagination edges, at the root
and per parent, and each answer is compared with the same question put to the ORM.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connections, models
from django.db.models import F, Q
from django.test import Client, override_settings
from graphql import GraphQLObjectType, GraphQLUnionType
from graphql import build_schema as parse_sdl
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from api_graphql.model_graph import FieldSpec, ModelSpec, RelationSpec
from api_graphql.schema import get_schema
from tests.conftest import PASSWORD
from tests.corpus import expected
from tests.corpus.population import populate

CASES = int(os.environ.get("CORPUS_CASES", "200"))
SNAPSHOT = Path(__file__).resolve().parent.parent / "snapshots" / "schema.graphql"
CORPUS_APPS = ("sites", "flatpages", "redirects", "taggit", "account", "socialaccount", "mfa",
               "guardian", "catalog")


@pytest.fixture(autouse=True)
def fresh_schema() -> Iterator[None]:
    """One schema for the whole run (the settings never change here)."""
    yield


@pytest.fixture(scope="module")
def corpus(django_db_setup: Any, django_db_blocker: Any) -> dict[str, int]:
    with django_db_blocker.unblock():
        counts = populate()
        get_user_model().objects.create_superuser("corpus-root", "root@example.com", PASSWORD)
    return counts


class API:
    def __init__(self) -> None:
        self.client = Client()
        self.client.force_login(get_user_model().objects.get(username="corpus-root"))

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post(query, variables)
        if connections["default"].vendor == "postgresql":
            # Both read paths: compiled reads (the database writes the JSON) and the
            # reader must answer the same bytes (api_graphql.compiled).
            with override_settings(API_GRAPHQL={**django_settings.API_GRAPHQL,
                                                "COMPILED_READS": False,
                                                "RESULT_CACHE": False}):
                reader = self.post(query, variables)
            assert reader.content == response.content, (query, variables)
        assert response.status_code == 200, response.content[:2000]
        assert response["Content-Type"].startswith("application/json")
        body: dict[str, Any] = response.json()
        assert "errors" not in body, (query, variables, body["errors"])
        return body["data"]  # type: ignore[no-any-return]

    def post(self, query: str, variables: dict[str, Any] | None) -> Any:
        return self.client.post("/graphql", json.dumps({"query": query, "variables": variables}),
                                content_type="application/json")


@pytest.fixture
def api(corpus: dict[str, int], db: Any) -> API:
    return API()


def labels() -> list[str]:
    return sorted(get_schema().graph.specs)


def instances(model: type[models.Model]) -> Any:
    """The model's rows as instances of the model itself (django-polymorphic's manager
    would hand out the subclass, whose generic relations use its own content type)."""
    queryset = model._default_manager.all()
    return queryset.non_polymorphic() if hasattr(queryset, "non_polymorphic") else queryset


def default_order(model: type[models.Model]) -> list[Any]:
    order: list[Any] = [entry for entry in model._meta.ordering or ()
                        if not isinstance(entry, str) or entry.lstrip("-?")]
    return [*order, "pk"]


def back_key(relation: RelationSpec, target: ModelSpec) -> str | None:
    """The column of the related rows that points back to the parent."""
    field = relation.django_field
    if relation.kind == "reverse_many" and hasattr(field, "object_id_field_name"):
        return str(field.object_id_field_name)
    if relation.kind in ("reverse_many", "reverse_one") and hasattr(field, "field"):
        attname = field.field.attname
        return attname if attname in target.fields else None
    return None


def relation_selection(spec: ModelSpec) -> list[str]:
    graph = get_schema().graph
    type_fields = get_schema().graphql_schema.get_type(spec.type_name).fields  # type: ignore[union-attr]
    parts = []
    for relation in spec.relations.values():
        if relation.kind == "generic":
            parts.append(f"{relation.name} {{ __typename }}")
            continue
        target = graph.specs[relation.target]
        keys = target.pk.name
        back = back_key(relation, target)
        if back and back != keys:
            keys += f" {back}"
        if relation.many:
            parts.append(f"{relation.name}(limit: 30) {{ {keys} }}")
            if f"{relation.name}_count" in type_fields:
                parts.append(f"{relation.name}_count")
        else:
            parts.append(f"{relation.name} {{ {keys} }}")
    return parts


def related_rows(obj: models.Model, relation: RelationSpec) -> Any:
    """A to-many relation's rows: Django's related manager; for a library's own
    relation class (taggit's), the join from the other side, which is what filters use
    (taggit's manager on a subclass instance sees only the subclass's content type,
    its join sees the parents' too)."""
    if type(relation.django_field).__module__.startswith("django.") and hasattr(
            obj, relation.name):
        return getattr(obj, relation.name).all()
    target = relation.django_field.related_model
    return target._default_manager.filter(**{f"{relation.remote_path}__pk": obj.pk})


def generic_target(obj: models.Model, relation: RelationSpec) -> ModelSpec | None:
    """The exposed model a generic foreign key names, if the row it names exists: the
    model of the content type (django-polymorphic's GenericForeignKey would hand out the
    subclass instance; the union member is the model the row points at)."""
    content_type = getattr(obj, relation.ct_attname or "")
    object_id = getattr(obj, relation.fk_attname or "")
    model = ContentType.objects.get_for_id(content_type).model_class() if content_type else None
    target = get_schema().graph.get(model) if model is not None else None
    if target is None:
        return None
    try:
        key = target.model._meta.pk.to_python(object_id)  # type: ignore[union-attr]
        return target if instances(target.model).filter(pk=key).exists() else None
    except (ValidationError, ValueError, TypeError):
        return None


def related(obj: models.Model, relation: RelationSpec) -> Any:
    if relation.many:
        return list(related_rows(obj, relation))
    try:
        value = getattr(obj, relation.name)
    except ObjectDoesNotExist:
        return None
    except Exception:
        if relation.kind == "generic":  # a content type whose model is gone
            return None
        raise
    return list(value.all()) if relation.many else value


def test_the_corpus_builds_every_model_has_rows_and_secrets_stay_out(
        corpus: dict[str, int]) -> None:
    graph = get_schema().graph
    labels = set(graph.specs)
    for app in CORPUS_APPS:
        assert any(label.startswith(app + ".") for label in labels) or app in (
            "socialaccount", "mfa"), app
    assert not {"socialaccount.socialtoken", "socialaccount.socialapp", "mfa.authenticator",
                "account.emailconfirmation", "socialaccount.socialaccount"} & labels
    assert "catalog.shipment" not in labels  # a composite key: left out, with a warning
    empty = [label for label, count in corpus.items() if count == 0]
    assert not empty
    device = graph.specs["catalog.device"].fields
    assert {"name", "keyboard_layout", "monkey"} <= set(device)
    assert not {"key", "signing_key", "otp_seed", "salt", "private_notes"} & set(device)
    sdl = get_schema().sdl()
    for secret in ("password", "session_data", "otp_seed", "signing_key", "token_secret"):
        assert not re.search(rf"^\s+\w*{secret}\w*[(:]", sdl, re.M), secret


def _definitions(sdl: str) -> dict[str, str]:
    """Each definition of an SDL text (with its description), by its name."""
    found = {}
    for block in re.split(r"\n\n(?=[^\s}])", sdl):
        match = re.search(r"^(?:type|input|enum|union|scalar|interface) (\w+)", block, re.M)
        if match:
            found[match.group(1)] = block.strip()
    return found


def test_installing_the_corpus_renames_nothing_of_the_project() -> None:
    """The project's schema without the corpus apps (the committed snapshot) is
    contained unchanged in the schema with them: each type as it was, each root field
    with its type and arguments; unions (generic relations) only gain members."""
    before, after = _definitions(SNAPSHOT.read_text()), _definitions(get_schema().sdl())
    old_schema, new_schema = parse_sdl(SNAPSHOT.read_text()), get_schema().graphql_schema
    for name, definition in before.items():
        assert name in after, f"type {name} disappeared"
        old, new = old_schema.get_type(name), new_schema.get_type(name)
        if name in ("Query", "Mutation", "Subscription"):
            assert isinstance(old, GraphQLObjectType) and isinstance(new, GraphQLObjectType)
            for field_name, field in old.fields.items():
                assert field_name in new.fields, f"{name}.{field_name} disappeared"
                assert str(new.fields[field_name].type) == str(field.type)
                assert set(new.fields[field_name].args) == set(field.args)
        elif isinstance(old, GraphQLUnionType):
            assert isinstance(new, GraphQLUnionType)
            assert {t.name for t in old.types} <= {t.name for t in new.types}
        else:
            assert after[name] == definition, name
    assert "TaggitTag" in after and "Tag" in before and after["Tag"] == before["Tag"]


def test_every_list_answers_as_the_orm(api: API) -> None:
    graph = get_schema().graph
    failures: list[str] = []
    for spec in graph:
        parts = expected.selection(spec) + relation_selection(spec)
        size = spec.model._default_manager.count()
        data = api(f"{{ {spec.root_name}_list(limit: {size}) {{ {' '.join(parts)} }} "
                   f"{spec.root_name}_count }}")
        rows = data[f"{spec.root_name}_list"]
        objects = list(instances(spec.model).order_by(*default_order(spec.model)))
        assert data[f"{spec.root_name}_count"] == len(rows) == len(objects), spec.label
        for row, obj in zip(rows, objects, strict=True):
            where = f"{spec.label}[{obj.pk}]"
            for field in spec.fields.values():
                problem = expected.mismatch(field, row[field.name], obj)
                if problem:
                    failures.append(f"{where}.{field.name}: {problem}")
            for relation in spec.relations.values():
                failures.extend(_relation_problems(spec, relation, row, obj, where))
    assert not failures, "\n".join(failures[:40])


def _relation_problems(spec: ModelSpec, relation: RelationSpec, row: dict[str, Any],
                       obj: models.Model, where: str) -> list[str]:
    graph = get_schema().graph
    answer, truth = row[relation.name], related(obj, relation)
    where = f"{where}.{relation.name}"
    if relation.kind == "generic":
        target = generic_target(obj, relation)
        wanted = {"__typename": target.type_name} if target is not None else None
        return [] if answer == wanted else [f"{where}: {answer!r} != {wanted!r}"]
    target = graph.specs[relation.target]
    key = target.pk.name
    if not relation.many:
        wanted_pk = None if truth is None else str(truth.pk)
        got = None if answer is None else answer[key]
        problems = [] if got == wanted_pk else [f"{where}: {got!r} != {wanted_pk!r}"]
        if relation.kind == "forward" and truth is not None:  # the FK column holds its key
            column = str(getattr(obj, relation.django_field.attname))
            if column != str(getattr(truth, relation.target_key)):
                problems.append(f"{where}: column {column!r} is not the target's key")
        return problems
    got_pks = sorted(str(item[key]) for item in answer)
    wanted_pks = sorted(str(item.pk) for item in truth)
    problems = [] if got_pks == wanted_pks else [f"{where}: {got_pks} != {wanted_pks}"]
    count = row.get(f"{relation.name}_count")
    if count is not None and count != len(answer):
        problems.append(f"{where}_count: {count} != {len(answer)}")
    back = back_key(relation, target)
    if back and back != key:
        parent_key = str(getattr(obj, relation.local_key))
        problems += [f"{where}.{back}: {item[back]!r} != {parent_key!r}"
                     for item in answer if str(item[back]) != parent_key]
    return problems


# -- generated queries -------------------------------------------------------------------

def _values(spec: ModelSpec, field: FieldSpec) -> list[Any]:
    found = spec.model._default_manager.values_list(field.attname, flat=True)
    return [value for value in found if value is not None and value != ""]


def _substring(draw: Any, value: Any) -> str | None:
    text = "".join(ch for ch in str(value) if ch.isalnum())
    if not text:
        return None
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, min(len(text), start + 4)))
    return text[start:end]


@st.composite
def field_condition(draw: Any, spec: ModelSpec) -> tuple[dict[str, Any], Q] | None:
    """One field, one lookup of its filter input, an operand taken from the rows."""
    candidates = [f for f in spec.fields.values() if f.kind.name != "Base64"]
    field = draw(st.sampled_from(candidates))
    lookups = (("exact", "in", "isnull") if field.enum is not None
               else tuple(field.kind.lookups) + tuple(t for t, _ in field.kind.transforms))
    lookup = draw(st.sampled_from(lookups))
    values = _values(spec, field)
    path = field.attname
    if lookup == "isnull":
        flag = draw(st.booleans())
        return {field.name: {"isnull": flag}}, Q((f"{path}__isnull", flag))
    if not values:
        return None
    value = draw(st.sampled_from(values))
    transforms = dict(field.kind.transforms)
    if lookup in transforms:
        part = getattr(value, lookup)() if lookup == "date" else getattr(value, lookup, None)
        if part is None:
            return None
        operand = part.isoformat() if lookup == "date" else part
        return {field.name: {lookup: {"exact": operand}}}, Q((f"{path}__{lookup}", part))
    if lookup in ("contains", "icontains", "startswith", "istartswith", "endswith",
                  "iendswith", "iexact", "regex", "iregex"):
        if field.enum is not None or field.kind.name == "JSON":
            return None
        text = _substring(draw, expected.wire(field, value))
        if text is None:
            return None
        if lookup == "iexact":
            text = str(expected.wire(field, value)).upper()
        return {field.name: {lookup: text}}, Q((f"{path}__{lookup}", text))
    if lookup == "has_key":
        keys = sorted(value) if isinstance(value, dict) else []
        if not keys:
            return None
        key = draw(st.sampled_from(keys))
        return {field.name: {"has_key": key}}, Q((f"{path}__has_key", key))
    if lookup == "in":
        other = draw(st.sampled_from(values))
        return ({field.name: {"in": [expected.wire(field, value), expected.wire(field, other)]}},
                Q((f"{path}__in", [value, other])))
    if lookup == "range":
        other = draw(st.sampled_from(values))
        low, high = sorted([value, other])
        # Inclusive bounds (a foreign key column has no range lookup of its own).
        return ({field.name: {"range": [expected.wire(field, low), expected.wire(field, high)]}},
                Q((f"{path}__gte", low)) & Q((f"{path}__lte", high)))
    if field.kind.name == "JSON" and lookup == "exact":
        return None  # JSON equality is a database-specific idea; has_key covers JSON
    return {field.name: {lookup: expected.wire(field, value)}}, Q((f"{path}__{lookup}", value))


@st.composite
def relation_condition(draw: Any, spec: ModelSpec) -> tuple[dict[str, Any], Q] | None:
    """Through a relation (either way): rows related to one existing target row."""
    graph = get_schema().graph
    relations = [r for r in spec.relations.values() if r.kind != "generic"]
    if not relations:
        return None
    relation = draw(st.sampled_from(relations))
    target = graph.specs[relation.target]
    pks = list(target.model._default_manager.values_list("pk", flat=True)[:20])
    if not pks:
        return None
    pk = draw(st.sampled_from(pks))
    return ({relation.name: {target.pk.name: {"exact": str(pk)}}},
            Q((f"{relation.query_name}__pk", pk)))


@st.composite
def condition(draw: Any, spec: ModelSpec) -> tuple[dict[str, Any], Q] | None:
    shape = draw(st.sampled_from(["none", "field", "field", "relation", "not", "or"]))
    if shape == "none":
        return {}, Q()
    if shape == "relation":
        return draw(relation_condition(spec))
    first = draw(field_condition(spec))
    if first is None or shape == "field":
        return first
    if shape == "not":
        return {"NOT": first[0]}, ~first[1]
    second = draw(field_condition(spec))
    if second is None:
        return None
    return {"OR": [first[0], second[0]]}, first[1] | second[1]


@st.composite
def ordering(draw: Any, spec: ModelSpec) -> tuple[list[dict[str, Any]], list[Any]]:
    orderable = [f for f in spec.fields.values() if f.kind.name not in ("JSON", "Base64")]
    if not orderable or draw(st.booleans()):
        return [], default_order(spec.model)
    field = draw(st.sampled_from(orderable))
    direction = draw(st.sampled_from(["ASC", "DESC", "ASC_NULLS_FIRST", "DESC_NULLS_LAST"]))
    expression = F(field.attname)
    nulls = {"ASC_NULLS_FIRST": {"nulls_first": True}, "DESC_NULLS_LAST": {"nulls_last": True}}
    kwargs = nulls.get(direction, {})
    order = expression.desc(**kwargs) if direction.startswith("DESC") else expression.asc(**kwargs)
    return [{field.name: direction}], [order, "pk"]


def _page(draw: Any, size: int) -> tuple[int | None, int | None]:
    offset = draw(st.one_of(st.none(), st.integers(0, size + 1), st.just(size)))
    limit = draw(st.one_of(st.none(), st.integers(0, size + 1), st.just(1)))
    return offset, limit


def _slice(items: list[Any], offset: int | None, limit: int | None) -> list[Any]:
    start = offset or 0
    return items[start:start + (100 if limit is None else limit)]


def _filtered(model: type[models.Model], q: Q) -> Any:
    """Rows matching ``q``, once each (a condition through a to-many relation repeats)."""
    manager = model._default_manager
    return manager.filter(pk__in=manager.filter(q).values("pk"))


PAGE_QUERY = """query($f: {filter}, $o: [{order}!], $offset: Int, $limit: Int) {{
  {root}_list(filters: $f, ordering: $o, offset: $offset, limit: $limit) {{ {pk} }}
  {root}_count(filters: $f) }}"""


#: Seeded and without shrinking: a failure prints the drawn case as it came, and a run
#: takes the same bounded time whatever it finds.
GENERATED = {"deadline": None, "derandomize": True, "database": None,
             "phases": [Phase.explicit, Phase.generate],
             "suppress_health_check": list(HealthCheck)}


@settings(max_examples=CASES, **GENERATED)
@given(data=st.data())
def test_generated_queries_answer_as_the_orm(api: API, data: Any) -> None:
    spec = get_schema().graph.specs[data.draw(st.sampled_from(labels()), label="model")]
    where = data.draw(condition(spec), label="filters")
    if where is None:
        return
    filters, q = where
    order_input, order = data.draw(ordering(spec), label="ordering")
    size = spec.model._default_manager.count()
    offset, limit = _page(data.draw, size)
    answer = api(PAGE_QUERY.format(filter=spec.filter_name, order=spec.order_name,
                                   root=spec.root_name, pk=spec.pk.name),
                 {"f": filters, "o": order_input, "offset": offset, "limit": limit})
    matching = _filtered(spec.model, q)
    wanted = _slice([str(pk) for pk in matching.order_by(*order).values_list("pk", flat=True)],
                    offset, limit)
    assert [row[spec.pk.name] for row in answer[f"{spec.root_name}_list"]] == wanted
    assert answer[f"{spec.root_name}_count"] == matching.count()


NESTED_QUERY = """query($o: [{order}!], $offset: Int, $limit: Int) {{
  {root}_list(limit: 100) {{ {pk}
    {relation}(ordering: $o, offset: $offset, limit: $limit) {{ {keys} }} }} }}"""


@settings(max_examples=max(CASES // 3, 10), **GENERATED)
@given(data=st.data())
def test_generated_per_parent_pages_answer_as_the_orm(api: API, data: Any) -> None:
    """To-many relations both ways, paginated and ordered per parent, with the key
    back to the parent in the selection (the window query that once lost a column)."""
    graph = get_schema().graph
    pairs = [(spec.label, relation.name) for spec in graph
             for relation in spec.relations.values()
             if relation.many and relation.kind != "generic"]
    label, name = data.draw(st.sampled_from(pairs), label="relation")
    spec = graph.specs[label]
    relation = spec.relations[name]
    target = graph.specs[relation.target]
    order_input, order = data.draw(ordering(target), label="ordering")
    offset, limit = _page(data.draw, 4)
    back = back_key(relation, target)
    keys = target.pk.name + (f" {back}" if back and back != target.pk.name else "")
    answer = api(NESTED_QUERY.format(order=target.order_name, root=spec.root_name,
                                     pk=spec.pk.name, relation=relation.name, keys=keys),
                 {"o": order_input, "offset": offset, "limit": limit})
    parents = {row[spec.pk.name]: row[relation.name] for row in answer[f"{spec.root_name}_list"]}
    for obj in instances(spec.model):
        manager = related_rows(obj, relation)
        wanted = _slice([str(pk) for pk in manager.order_by(*order).values_list("pk", flat=True)],
                        offset, limit)
        got = parents[str(obj.pk)]
        assert [row[target.pk.name] for row in got] == wanted, (spec.label, relation.name)
        if back and back != target.pk.name:
            assert {str(row[back]) for row in got} <= {str(getattr(obj, relation.local_key))}


def test_library_values_have_their_shapes(api: API) -> None:
    """The issue's examples: a phone number in E.164 (it used to reach the encoder as
    an object: an HTML 500), money with its currency, a country with its name, a block
    field's data (it used to be its rendered HTML)."""
    data = api("""{ supplier_list { code phone country { code name } markets { code } }
                   product_list(limit: 1) { price { amount currency } body origin { name } } }""")
    phones = [s["phone"] for s in data["supplier_list"] if s["phone"]]
    assert phones and all(re.fullmatch(r"\+336\d{8}", phone) for phone in phones)
    assert any(len(s["code"]) == 255 for s in data["supplier_list"])
    product = data["product_list"][0]
    assert set(product["price"]) == {"amount", "currency"} and product["price"]["currency"]
    assert isinstance(product["body"], list) and product["body"][0]["type"] == "heading"


# -- push: last, it commits (a transactional test flushes the tables after it) --------

#: A model of each kind, and the change saved to it (a save that changes nothing is
#: no event): a 255-character text key with a phone number, money, a polymorphic
#: grandchild, trees (materialised path, MPTT), a UUID key, package models.
SAMPLE = {"catalog.supplier": ("phone", "+33699999999"), "catalog.product": ("name", "renamed"),
          "catalog.ebook": ("download_url", "https://example.com/new"),
          "catalog.folder": ("name", "renamed"), "catalog.asset": ("title", "renamed"),
          "taggit.tag": ("name", "renamed-tag"), "sites.site": ("name", "renamed"),
          "catalog.category": ("name", "renamed")}


def _save(obj: models.Model, field: str, value: Any) -> None:
    try:
        setattr(obj, field, value)
        obj.save()
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_a_save_of_sampled_models_reaches_their_subscribers(corpus: dict[str, int]) -> None:
    from api_graphql import tokens
    from tests.servers import daphne
    from tests.ws_client import GraphQLSocket

    graph = get_schema().graph
    root = get_user_model().objects.get(username="corpus-root")
    sample = [graph.specs[label] for label in SAMPLE]
    objects = {spec.label: instances(spec.model).order_by("pk").first()
               for spec in sample}

    async def scenario(server: Any) -> None:
        socket = await GraphQLSocket.open(
            server.ws, init={"authorization": f"Bearer {tokens.issue(root)[0]}"})
        for index, spec in enumerate(sample):
            fields = " ".join(expected.selection(spec))
            await socket.subscribe(str(index), f"subscription {{ {spec.root_name}_changes "
                                   f"{{ op pk node {{ {fields} }} }} }}")
            ready = await socket.event(str(index), f"{spec.root_name}_changes", timeout=30)
            assert ready["op"] == "READY", ready
        for spec in sample:
            obj = objects[spec.label]
            await asyncio.to_thread(_save, obj, *SAMPLE[spec.label])
        for index, spec in enumerate(sample):
            event = await socket.event(str(index), f"{spec.root_name}_changes", timeout=30)
            obj = objects[spec.label]
            assert (event["op"], event["pk"]) == ("UPDATED", str(obj.pk)), spec.label
            field, value = SAMPLE[spec.label]
            assert event["node"][field] == value, spec.label
            for field in spec.fields.values():
                assert expected.mismatch(field, event["node"][field.name], obj) is None, (
                    spec.label, field.name)
        await socket.close()

    with daphne(DJANGO_SETTINGS_MODULE="tests.corpus.settings") as server:
        asyncio.run(scenario(server))
