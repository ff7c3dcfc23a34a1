"""The energy-billing backend: its wire format, the client the gateway uses, and a simulator."""
