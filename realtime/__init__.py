"""Every ORM change as a GraphQL subscription event, after commit, from any process."""
