"""Baseline: the same models through a hand-written strawberry-django schema.

Written the way the strawberry-django documentation teaches: ``strawberry_django``
types with ``auto`` fields, a lookup filter, offset pagination, and the
``DjangoOptimizerExtension`` that turns nested selections into ``select_related``,
``prefetch_related`` and ``only()``. No caches beyond the defaults: this is what a
careful developer gets out of the box (``schema_with_caches`` adds strawberry's
parser and validation caches for the in-process comparison).
"""
