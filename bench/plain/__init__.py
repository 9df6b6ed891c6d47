"""Baseline: plain Django JSON views, the "direct ORM" floor.

What a careful developer writes without GraphQL: ``values()`` of exactly the
columns needed, the foreign key joined, the counts and the many-to-many each read
in one extra query for the whole page, and ``JsonResponse``. The ``q*_data``
functions are also the direct ORM call of the in-process scenario (a).
"""
