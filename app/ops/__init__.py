"""Operational plumbing around the engine: request ids, counters, (later) health and metrics."""
