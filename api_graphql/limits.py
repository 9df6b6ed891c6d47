"""Limits on what one document may ask, with documented defaults (docs/OPERATIONS.md).

Depth and aliases are properties of the document and are checked once per cached
document; complexity depends on variables (page sizes) and is checked per request
on the selection tree, before any database work.

The depth limit is for data. Schema introspection (``__schema``, ``__type``) has a
bound of its own: graphql-core's ``MaxIntrospectionDepthRule``, one of the
specified validation rules, refuses nesting ``fields``/``inputFields``/
``interfaces``/``possibleTypes`` three deep. The standard introspection query
(graphql-js' ``getIntrospectionQuery``, what GraphiQL, codegen, Apollo and Postman
send) is 15 levels deep through ``ofType`` and passes that rule, so it answers.
"""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from api_graphql.conf import graphql_settings
from api_graphql.errors import LimitExceeded
from api_graphql.selection import FieldSelection

#: Root fields whose subtree MaxIntrospectionDepthRule bounds instead of MAX_DEPTH.
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


def check_document(document: DocumentNode, operation: OperationDefinitionNode) -> None:
    conf = graphql_settings()
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    depth = _depth(operation.selection_set, fragments, set())
    if depth > conf.max_depth:
        raise LimitExceeded(
            f"The query is {depth} levels deep; the limit is {conf.max_depth}.", limit="depth"
        )
    aliases = _aliases(document)
    if aliases > conf.max_aliases:
        raise LimitExceeded(
            f"The query uses {aliases} aliases; the limit is {conf.max_aliases}.", limit="aliases"
        )


def _depth(selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode],
           visiting: set[str]) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value in INTROSPECTION_FIELDS:
                deepest = max(deepest, 1)
                continue
            below = _depth(selection.selection_set, fragments, visiting)
            deepest = max(deepest, 1 + below if selection.selection_set else 1)
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, visiting))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visiting or name not in fragments:
                continue
            deepest = max(
                deepest, _depth(fragments[name].selection_set, fragments, visiting | {name})
            )
    return deepest


def _aliases(document: DocumentNode) -> int:
    count = 0

    def walk(selection_set: SelectionSetNode | None) -> None:
        nonlocal count
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode) and selection.alias is not None:
                count += 1
            walk(getattr(selection, "selection_set", None))

    for definition in document.definitions:
        walk(getattr(definition, "selection_set", None))
    return count


def complexity(selections: dict[str, FieldSelection], multiplier: int = 1,
               page_hint: int | None = None) -> int:
    """Roughly how many values the response holds: each field once per parent row,
    lists multiplied by their page size (``limit``, a connection's ``first``, or the
    default page size)."""
    default = graphql_settings().default_page_size
    total = 0
    for selection in selections.values():
        total += multiplier
        for variant in selection.variants.values():
            total += complexity(variant, multiplier)
        if not selection.children:
            continue
        first = selection.args.get("first")
        if first is not None:
            total += complexity(selection.children, multiplier, page_hint=max(int(first), 1))
            continue
        rows = multiplier
        if selection.is_list:
            limit = selection.args.get("limit")
            page = limit if limit is not None else (page_hint or default)
            rows = multiplier * max(int(page), 1)
        total += complexity(selection.children, rows)
    return total


def check_complexity(selections: dict[str, FieldSelection]) -> None:
    limit = graphql_settings().max_complexity
    cost = complexity(selections)
    if cost > limit:
        raise LimitExceeded(
            f"The query could return about {cost} values; the limit is {limit}. "
            "Ask for smaller pages or fewer fields.",
            limit="complexity",
        )
