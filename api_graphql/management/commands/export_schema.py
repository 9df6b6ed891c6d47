"""Write the GraphQL schema as SDL (to a file, or to standard output)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from api_graphql.schema import get_schema


class Command(BaseCommand):
    help = "Print the GraphQL schema (SDL), or write it to PATH."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", nargs="?", help="File to write; standard output if absent.")

    def handle(self, *args: Any, **options: Any) -> None:
        sdl = get_schema().sdl()
        if options["path"]:
            Path(options["path"]).write_text(sdl)
            self.stdout.write(f"Wrote {options['path']}")
        else:
            self.stdout.write(sdl, ending="")
