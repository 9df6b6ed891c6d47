"""How long the schema takes to build: ``python -m bench.schema_build [--rebuilds N]``.

The (f) cold start pays one build; the test suite pays one per test that changes
settings (``tests/conftest.py`` resets the schema after each). In a fresh process,
with the settings of ``DJANGO_SETTINGS_MODULE`` (the demo's by default; the test
settings and the corpus have more models): the first build, then ``N`` rebuilds,
each timed in CPU seconds (what the build costs, steadier than wall time on a
shared machine) and wall seconds, and the SDL's digest, equal on every build, so
two commits compared this way build the same schema. One JSON line::

    DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=$PWD .venv/bin/python -m bench.schema_build
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebuilds", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "myproject.settings")
    import django

    django.setup()
    from api_graphql.schema import get_schema, reset_schema

    def timed() -> tuple[float, float, str, int]:
        cpu, wall = time.process_time(), time.perf_counter()
        built = get_schema()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        return cpu, wall, built.sdl(), len(built.graphql_schema.type_map)

    first_cpu, first_wall, sdl, types = timed()
    cpu, wall = [], []
    for _ in range(args.rebuilds):
        reset_schema()
        rebuild_cpu, rebuild_wall, again, _ = timed()
        assert again == sdl, "a rebuild gave another schema"
        cpu.append(rebuild_cpu)
        wall.append(rebuild_wall)
    print(json.dumps({
        "settings": os.environ["DJANGO_SETTINGS_MODULE"], "types": types,
        "sdl_sha1": hashlib.sha1(sdl.encode()).hexdigest(),
        "first_build_cpu_s": round(first_cpu, 4), "first_build_wall_s": round(first_wall, 4),
        "rebuild_cpu_s_median": round(statistics.median(cpu), 4) if cpu else None,
        "rebuild_wall_s_median": round(statistics.median(wall), 4) if wall else None,
    }))


if __name__ == "__main__":
    main()
