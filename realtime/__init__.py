"""Every ORM change as a GraphQL subscription event, after commit, from any process."""

from realtime.publishing import publish_changes

__all__ = ["publish_changes"]
