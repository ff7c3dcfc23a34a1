"""Helpers shared by the test suite: real servers for real HTTP."""
