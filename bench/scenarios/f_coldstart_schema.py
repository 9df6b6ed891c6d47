"""Child of (f): in a fresh process, how long setup and the schema build take."""

from __future__ import annotations

import json
import time


def main() -> None:
    started = time.perf_counter()
    import django

    django.setup()
    setup = time.perf_counter() - started
    from api_graphql.schema import get_schema

    built = get_schema()
    print(json.dumps({"django_setup_seconds": setup, "build_seconds": built.build_seconds,
                      "types": len(built.graphql_schema.type_map)}))


if __name__ == "__main__":
    main()
