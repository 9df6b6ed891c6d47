"""Derive a typed, permission-checked GraphQL API from unchanged Django models."""

from api_graphql.computed import Computed
from api_graphql.registry import ModelConfig, register, site
from api_graphql.tasks.registry import register_task

__all__ = ["Computed", "ModelConfig", "register", "register_task", "site"]
