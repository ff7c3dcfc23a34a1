"""The Enneo-compatible REST shim: a thin adapter over the history service."""
