"""``manage.py export_client_schema [--out DIR] [--check]``.

Writes what the TypeScript generator reads: ``schema.graphql`` (SDL),
``schema.json`` (introspection) and ``models.json`` (the client manifest, see
``api_graphql.manifest``). ``--check`` writes nothing and fails when the files in
DIR differ from the current schema, so CI catches a schema change nobody exported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from api_graphql.manifest import client_files, write_client_files
from api_graphql.schema import get_schema


class Command(BaseCommand):
    help = "Export the GraphQL schema and the model manifest for the TypeScript client."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", default="ts_client/schema",
                            help="Directory to write into (default: ts_client/schema).")
        parser.add_argument("--check", action="store_true",
                            help="Compare with the files in --out instead of writing them.")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        built = get_schema()
        if options["check"]:
            stale = [name for name, content in client_files(built).items()
                     if not (out / name).is_file()
                     or (out / name).read_text(encoding="utf-8") != content]
            if stale:
                raise CommandError(
                    f"{', '.join(stale)} in {out} differ from the schema; "
                    "run manage.py export_client_schema and commit the result."
                )
            self.stdout.write(f"{out} is up to date.")
            return
        for path in write_client_files(built, out):
            self.stdout.write(f"wrote {path}")
