"""Harness helpers shared by the scenarios: processes, load tools, statistics."""
