"""The deterministic demo world: customers, contracts, tickets and billing events from a seed.

The helpdesk seeder and the billing simulator both derive their data from here, so a contract
seeded into the database and the events the simulator serves for it always agree, without any
state shared between the two processes.
"""
