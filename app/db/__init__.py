"""The helpdesk database: tables, engine, migrations and the only SQL the gateway runs."""
