"""A bare Django project: ``startproject`` defaults and one JSON view (cold-start floor)."""
