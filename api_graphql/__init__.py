"""Derive a typed, permission-checked GraphQL API from unchanged Django models."""

from api_graphql.computed import Computed
from api_graphql.registry import ModelConfig, register, site

__all__ = ["Computed", "ModelConfig", "register", "site"]
