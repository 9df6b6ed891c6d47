"""Execute a GraphQL request: cached parse and validation, then the fast path.

Operations whose root fields are all ours (model queries, mutations, auth) run by
calling the root handlers directly; the reader already returns response-shaped
data, so graphql-core's per-field machinery is skipped. Anything else (schema
introspection, fields added by hand) runs through Strawberry, on the same
handlers. Errors are GraphQL errors with ``extensions.code``; nothing raises out
of here, so no request ends in a 500 or a traceback.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock
from typing import TYPE_CHECKING, Any

import orjson
from django.conf import settings
from django.db import DatabaseError
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    OperationDefinitionNode,
    get_operation_ast,
    is_non_null_type,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import VariableValues, get_variable_values

from api_graphql.conf import graphql_settings
from api_graphql.errors import GraphQLUserError
from api_graphql.footprint import Footprint, FootprintBuilder, Uncacheable
from api_graphql.limits import INTROSPECTION_FIELDS, check_complexity, check_document
from api_graphql.result_cache import Entry, ResultCache, current_versions, memory_versions
from api_graphql.selection import TYPENAME, FieldSelection, SelectionBuilder
from api_graphql.uploads import contains_upload

if TYPE_CHECKING:
    from api_graphql.context import RequestContext
    from api_graphql.schema import BuiltSchema

logger = logging.getLogger(__name__)
CACHE_SIZE = 1000
INTERNAL_ERROR = {"message": "Internal server error.",
                  "extensions": {"code": "INTERNAL_SERVER_ERROR"}}


MAX_SCOPES_PER_PLAN = 64


@dataclass
class Plan:
    """An operation with one set of variables: its coerced selections, checked against
    the limits, and (per permission scope) what its answer depends on."""

    key: tuple[Any, ...]
    selections: dict[str, FieldSelection]
    footprints: dict[str, Footprint | None] = field(default_factory=dict)


class RequestError(Exception):
    """The request itself is wrong (syntax, validation, variables): HTTP 400."""

    def __init__(self, errors: list[dict[str, Any]], status: int = 400) -> None:
        self.errors = errors
        self.status = status


@dataclass(frozen=True)
class PreparedOperation:
    """A parsed, validated operation: everything that does not depend on variables."""

    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    kind: str  # "query", "mutation" or "subscription"
    native: bool
    introspection: bool
    source: str


def _format(error: GraphQLError) -> dict[str, Any]:
    return dict(error.formatted)


def _uses_introspection(operation: OperationDefinitionNode,
                        fragments: dict[str, FragmentDefinitionNode]) -> bool:
    stack = [operation.selection_set, *(f.selection_set for f in fragments.values())]
    while stack:
        selection_set = stack.pop()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode) and selection.name.value in INTROSPECTION_FIELDS:
                return True
            child = getattr(selection, "selection_set", None)
            if child is not None:
                stack.append(child)
    return False


def may_introspect(user: Any) -> bool:
    """INTROSPECTION: "always", "never", or "staff" (staff and superusers; anyone with DEBUG)."""
    policy = graphql_settings().introspection
    staff = bool(user is not None and (getattr(user, "is_staff", False)
                                       or getattr(user, "is_superuser", False)))
    return policy == "always" or (policy == "staff" and (settings.DEBUG or staff))


class Executor:
    """The executor of one built schema, with its document cache."""

    def __init__(self, built: BuiltSchema) -> None:
        self.built = built
        self.schema = built.graphql_schema
        self._prepared: OrderedDict[tuple[str, str | None], PreparedOperation] = OrderedDict()
        self._plans: OrderedDict[tuple[Any, ...], Plan] = OrderedDict()
        self._lock = Lock()
        self.results = ResultCache()
        #: The permission scope of anonymous users, once a request computed it (their
        #: rules may read the database, so the event loop never computes it).
        self.anonymous_scope: str | None = None

    # -- preparation (cached) ----------------------------------------------------
    def prepare(self, query: str, operation_name: str | None) -> PreparedOperation:
        key = (query, operation_name)
        prepared = self._prepared.get(key)
        if prepared is not None:
            return prepared
        prepared = self._prepare(query, operation_name)
        with self._lock:
            self._prepared[key] = prepared
            if len(self._prepared) > CACHE_SIZE:
                self._prepared.popitem(last=False)
        return prepared

    def _prepare(self, query: str, operation_name: str | None) -> PreparedOperation:
        conf = graphql_settings()
        if not isinstance(query, str) or not query.strip():
            raise RequestError([{"message": "The request has no GraphQL query."}])
        if len(query) > conf.max_query_length:
            raise RequestError([{
                "message": f"The query is longer than {conf.max_query_length} characters.",
                "extensions": {"code": "LIMIT_EXCEEDED"},
            }])
        try:
            document = parse(query, max_tokens=50_000)
        except GraphQLError as error:
            raise RequestError([_format(error)]) from None
        except RecursionError:
            raise RequestError([{"message": "The query nests too deeply to parse."}]) from None
        errors = validate(self.schema, document, specified_rules, max_errors=20)
        if errors:
            raise RequestError([_format(e) for e in errors])
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            message = (f"Unknown operation named '{operation_name}'." if operation_name
                       else "Must provide operation name if query contains multiple operations.")
            raise RequestError([{"message": message}])
        try:
            check_document(document, operation)
        except GraphQLUserError as error:
            raise RequestError([error.as_dict()]) from None
        fragments = {d.name.value: d for d in document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        kind = operation.operation.value
        introspection = _uses_introspection(operation, fragments)
        return PreparedOperation(
            document, operation, fragments, kind,
            native=not introspection and self._is_native(kind, operation, fragments),
            introspection=introspection,
            source=query,
        )

    def _is_native(self, kind: str, operation: OperationDefinitionNode,
                   fragments: dict[str, FragmentDefinitionNode]) -> bool:
        handlers = self.built.root_fields.get(kind, {})  # type: ignore[call-overload]
        stack = [operation.selection_set]
        while stack:
            for selection in stack.pop().selections:
                if isinstance(selection, FieldNode):
                    name = selection.name.value
                    if name != TYPENAME and name not in handlers:
                        return False
                elif hasattr(selection, "selection_set"):
                    stack.append(selection.selection_set)
                else:
                    fragment = fragments.get(selection.name.value)  # type: ignore[attr-defined]
                    if fragment is not None:
                        stack.append(fragment.selection_set)
        return True

    # -- execution -----------------------------------------------------------------
    def root_type(self, kind: str) -> GraphQLObjectType:
        root = {"query": self.schema.query_type, "mutation": self.schema.mutation_type,
                "subscription": self.schema.subscription_type}[kind]
        assert root is not None
        return root

    def variables(self, prepared: PreparedOperation, raw: Any) -> VariableValues:
        if raw is not None and not isinstance(raw, dict):
            raise RequestError([{"message": "Variables must be a JSON object."}])
        coerced = get_variable_values(
            self.schema, prepared.operation.variable_definitions or (), raw or {}, max_errors=20
        )
        if isinstance(coerced, list):
            raise RequestError([_format(e) for e in coerced])
        return coerced

    def selections(self, prepared: PreparedOperation,
                   values: VariableValues) -> dict[str, FieldSelection]:
        """The root selections with their arguments coerced (errors are request errors)."""
        builder = SelectionBuilder(self.schema, prepared.fragments, values)
        try:
            return builder.fields(self.root_type(prepared.kind),
                                  [prepared.operation.selection_set])
        except GraphQLError as error:
            raise RequestError([_format(error)]) from None

    def check_introspection(self, context: RequestContext) -> None:
        if not may_introspect(context.user):
            raise RequestError([{
                "message": "Introspection is disabled for this user.",
                "extensions": {"code": "FORBIDDEN"},
            }])

    def execute(self, context: RequestContext, query: str, variables: Any = None,
                operation_name: str | None = None) -> dict[str, Any]:
        """Run a query or mutation; raises :class:`RequestError` for bad requests."""
        prepared = self.prepare(query, operation_name)
        if prepared.kind == "subscription":
            raise RequestError([{"message": "Subscriptions need the WebSocket endpoint."}])
        return self.execute_prepared(context, prepared, variables)

    def plan(self, prepared: PreparedOperation, variables: Any) -> Plan:
        """The coerced selections of an operation with these variables (cached)."""
        if variables is not None and not isinstance(variables, dict):
            raise RequestError([{"message": "Variables must be a JSON object."}])
        key: tuple[Any, ...]
        try:
            key = (prepared.source, prepared.operation.name and prepared.operation.name.value,
                   orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS))
            cached = True
        except TypeError:
            # Files of a multipart request are not JSON: such a plan is never reused.
            if not contains_upload(variables):
                raise RequestError([{"message": "Variables must be JSON."}]) from None
            key, cached = (prepared.source, id(variables)), False
        plan = self._plans.get(key) if cached else None
        if plan is None:
            selections = self.selections(prepared, self.variables(prepared, variables))
            try:
                check_complexity(selections)
            except GraphQLUserError as error:
                raise RequestError([error.as_dict()]) from None
            plan = Plan(key, selections)
            if cached:
                with self._lock:
                    self._plans[key] = plan
                    if len(self._plans) > CACHE_SIZE:
                        self._plans.popitem(last=False)
        return plan

    def execute_prepared(self, context: RequestContext, prepared: PreparedOperation,
                         variables: Any) -> dict[str, Any]:
        if prepared.introspection:
            self.check_introspection(context)
        plan = self.plan(prepared, variables)
        if not prepared.native:
            return self._execute_strawberry(context, prepared, variables)
        root = self.root_type(prepared.kind)
        handlers = self.built.root_fields[prepared.kind]  # type: ignore[index]
        state = self._cache_state(context, prepared, plan, handlers)
        if state is None:
            return self._run_fields(context, root, plan.selections, handlers)
        key, footprint, labels, versions = state
        hit = self.results.get(key, labels, versions)
        if hit is not None:
            return hit
        with self.results.flight(key) as computing:
            if not computing:
                hit = self.results.get(key, labels, versions)
                if hit is not None:
                    return hit
            rows: dict[str, set[str]] = {}
            context.reader.seen = rows
            try:
                result = self._run_fields(context, root, plan.selections, handlers)
            finally:
                context.reader.seen = None
            if "errors" not in result:
                self.results.put(key, labels, versions, result, footprint, rows)
        return result

    def _cache_state(self, context: RequestContext, prepared: PreparedOperation, plan: Plan,
                     handlers: dict[str, Any]
                     ) -> tuple[tuple[Any, ...], Footprint, tuple[str, ...],
                                tuple[int, ...]] | None:
        """(key, footprint, labels, versions) when the result cache may answer."""
        if prepared.kind != "query":
            return None
        scope_key = context.scope.key
        if not getattr(context.user, "is_authenticated", True):
            self.anonymous_scope = scope_key
        if scope_key in plan.footprints:
            footprint = plan.footprints[scope_key]
        else:
            footprint = self._footprint(context, plan, handlers)
            if len(plan.footprints) < MAX_SCOPES_PER_PLAN:
                plan.footprints[scope_key] = footprint
        if footprint is None:
            return None
        state = current_versions(footprint.labels, context.consistency)
        if state is None:
            return None
        return (*plan.key, scope_key), footprint, state[0], state[1]

    def memory_hit(self, query: Any, operation_name: Any, variables: Any,
                   cursor: dict[str, int] | None, scope_key: str | None) -> Entry | None:
        """A query's cached answer for the permission scope ``scope_key`` with no
        database work and no thread, or None (the request then takes the full path).
        Only what an earlier request on the full path prepared is used: the plan, the
        scope, the footprint."""
        if scope_key is None or not isinstance(query, str):
            return None
        if operation_name is not None and not isinstance(operation_name, str):
            return None
        prepared = self._prepared.get((query, operation_name))
        if (prepared is None or prepared.kind != "query" or not prepared.native
                or prepared.introspection):
            return None
        try:
            plan = self.plan(prepared, variables)
        except RequestError:
            return None
        footprint = plan.footprints.get(scope_key)
        if footprint is None:
            return None
        state = memory_versions(footprint.labels, cursor)
        if state is None:
            return None
        return self.results.entry((*plan.key, scope_key), state[0], state[1], memory_only=True)

    def _footprint(self, context: RequestContext, plan: Plan,
                   handlers: dict[str, Any]) -> Footprint | None:
        builder = FootprintBuilder(self.built.graph, context.scope)
        for selection in plan.selections.values():
            if selection.name == TYPENAME:
                continue
            root_field = handlers[selection.name]
            if not root_field.cacheable:
                return None
            try:
                builder.root(root_field.model_spec, selection)
            except (Uncacheable, GraphQLUserError):  # the run reports a bad argument
                return None
        return builder.footprint

    def _run_fields(self, context: RequestContext, root: GraphQLObjectType,
                    selections: dict[str, FieldSelection],
                    handlers: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] | None = {}
        errors: list[dict[str, Any]] = []
        null_data = False
        for key, selection in selections.items():
            if selection.name == TYPENAME:
                data[key] = root.name  # type: ignore[index]
                continue
            try:
                data[key] = handlers[selection.name].handler(context, selection)  # type: ignore[index]
                continue
            except GraphQLUserError as error:
                errors.append(_located(error.as_dict([key]), selection.nodes))
            except DatabaseError as error:
                logger.warning("api_graphql: database error in %s: %s", selection.name, error)
                errors.append(_located({"message": "The database could not run this query.",
                                        "path": [key],
                                        "extensions": {"code": "DATABASE_ERROR"}},
                                       selection.nodes))
            except Exception:
                logger.exception("api_graphql: unexpected error in %s", selection.name)
                errors.append(_located({**INTERNAL_ERROR, "path": [key]}, selection.nodes))
            data[key] = None  # type: ignore[index]
            if is_non_null_type(root.fields[selection.name].type):
                null_data = True
        result: dict[str, Any] = {"data": None if null_data else data}
        if errors:
            result["errors"] = errors
        return result

    def _execute_strawberry(self, context: RequestContext, prepared: PreparedOperation,
                            variables: Any) -> dict[str, Any]:
        from graphql import print_ast

        outcome = self.built.strawberry_schema.execute_sync(
            print_ast(prepared.document), variable_values=variables, context_value=context,
            operation_name=prepared.operation.name.value if prepared.operation.name else None,
        )
        result: dict[str, Any] = {"data": outcome.data}
        if outcome.errors:
            result["errors"] = [_masked(e) for e in outcome.errors]
        return result


def _masked(error: GraphQLError) -> dict[str, Any]:
    """A resolver's exception as the derived fields report it: our errors keep their
    code, Django's PermissionDenied and ValidationError say what they mean, anything
    else is logged here and answered without its text (it may hold anything)."""
    from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
    from django.core.exceptions import ValidationError

    formatted = _format(error)
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return formatted  # GraphQL's own errors, and those a resolver raised on purpose
    extensions: dict[str, Any]
    if isinstance(original, GraphQLUserError):
        message, extensions = original.message, {"code": original.code, **original.extensions}
    elif isinstance(original, DjangoPermissionDenied):
        message, extensions = (str(original) or "Permission denied."), {"code": "FORBIDDEN"}
    elif isinstance(original, ValidationError):
        messages: list[str] = list(original.messages)
        message = "; ".join(messages)
        extensions = {"code": "BAD_USER_INPUT", "messages": messages}
    elif isinstance(original, DatabaseError):
        logger.warning("api_graphql: database error in %s: %s", formatted.get("path"), original)
        message, extensions = "The database could not run this query.", {"code": "DATABASE_ERROR"}
    else:
        logger.error("api_graphql: unexpected error in %s", formatted.get("path"),
                     exc_info=original)
        return {**formatted, **INTERNAL_ERROR}
    return {**formatted, "message": message, "extensions": extensions}


def _located(error: dict[str, Any], nodes: list[FieldNode]) -> dict[str, Any]:
    locations = [{"line": n.loc.source.get_location(n.loc.start).line,
                  "column": n.loc.source.get_location(n.loc.start).column}
                 for n in nodes[:1] if n.loc is not None]
    if locations:
        return {"message": error["message"], "locations": locations,
                **{k: v for k, v in error.items() if k != "message"}}
    return error


def executor_for(built: BuiltSchema) -> Executor:
    executor = built.caches.get("executor")
    if executor is None:
        executor = built.caches["executor"] = Executor(built)
    return executor

