"""The GraphQL transport: a Strawberry schema over the history service, and GraphiQL."""
