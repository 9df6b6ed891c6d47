"""Derive a typed, permission-checked GraphQL API from unchanged Django models."""

from api_graphql.computed import Computed
from api_graphql.handwritten import model_type, requires
from api_graphql.registry import ModelConfig, register, register_mutation, register_query, site
from api_graphql.tasks.registry import register_task

__all__ = ["Computed", "ModelConfig", "model_type", "register", "register_mutation",
           "register_query", "register_task", "requires", "site"]
