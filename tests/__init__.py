"""The test suite: real SQLite and PostgreSQL, the billing simulator over HTTP, real browsers."""
