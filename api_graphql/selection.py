"""What a document asks for, as a tree of :class:`FieldSelection`.

Fragments, ``@skip``/``@include``, aliases and variables are resolved here, once,
so the reader only sees plain fields with their response keys and coerced
arguments (dicts keyed by GraphQL names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_directive_values

TYPENAME = "__typename"


@dataclass
class FieldSelection:
    """One response key: the field it reads, its arguments and what it selects."""

    key: str
    name: str
    args: dict[str, Any]
    nodes: list[FieldNode]
    #: For object types: the subfields by response key, in document order.
    children: dict[str, FieldSelection] | None = None
    #: For unions: the subfields of each possible object type.
    variants: dict[str, dict[str, FieldSelection]] = field(default_factory=dict)
    is_list: bool = False


class SelectionBuilder:
    """Builds selection trees for one operation and its variables."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def fields(
        self, object_type: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> dict[str, FieldSelection]:
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            self._collect(object_type, selection_set, grouped, visited)
        return {key: self._selection(object_type, key, nodes) for key, nodes in grouped.items()}

    def _selection(
        self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]
    ) -> FieldSelection:
        name = nodes[0].name.value
        if name == TYPENAME or name.startswith("__"):
            return FieldSelection(key, name, {}, nodes)
        field_def = parent.fields[name]
        try:
            args = get_argument_values(field_def, nodes[0], self.variables)
        except GraphQLError:
            raise
        except Exception as error:  # an input type's own check, e.g. @oneOf
            raise GraphQLError(str(error), nodes[0]) from None
        selection = FieldSelection(key, name, args, nodes, is_list=_is_list(field_def.type))
        sub_sets = [node.selection_set for node in nodes if node.selection_set]
        if not sub_sets:
            return selection
        named = get_named_type(field_def.type)
        if is_object_type(named):
            selection.children = self.fields(named, sub_sets)
        elif is_abstract_type(named):
            for possible in self.schema.get_possible_types(named):
                selection.variants[possible.name] = self.fields(possible, sub_sets)
        return selection

    def _collect(
        self,
        object_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, object_type):
                    self._collect(object_type, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if self._applies(fragment.type_condition.name.value, object_type):
                    self._collect(object_type, fragment.selection_set, grouped, visited)

    def _included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and include.get("if") is False)

    def _applies(self, type_name: str, object_type: GraphQLObjectType) -> bool:
        condition = self.schema.get_type(type_name)
        if condition is None:
            return False
        if condition is object_type:
            return True
        if is_abstract_type(condition):
            return self.schema.is_sub_type(condition, object_type)
        return False


def _is_list(graphql_type: Any) -> bool:
    if is_non_null_type(graphql_type):
        graphql_type = graphql_type.of_type
    return is_list_type(graphql_type)
