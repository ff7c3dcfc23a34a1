"""Authentication: express-session cookies, session stores, API tokens, agents and passwords."""
