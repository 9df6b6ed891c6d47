"""Write the GraphQL schema as SDL (to a file, or to standard output), or check it
against a committed snapshot so CI fails when the public schema changes unintentionally."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from api_graphql.schema import get_schema


class Command(BaseCommand):
    help = ("Print the GraphQL schema (SDL), or write it to PATH; with --check, fail when "
            "PATH differs from the schema (the committed snapshot of the public contract).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", nargs="?", help="File to write; standard output if absent.")
        parser.add_argument("--check", action="store_true",
                            help="Compare with PATH instead of writing it; exit 1 on change.")

    def handle(self, *args: Any, **options: Any) -> None:
        sdl = get_schema().sdl()
        path = options["path"]
        if options["check"]:
            if not path:
                raise CommandError("--check needs the PATH of the committed schema")
            committed = Path(path).read_text() if Path(path).exists() else ""
            if committed != sdl:
                diff = difflib.unified_diff(
                    committed.splitlines(keepends=True), sdl.splitlines(keepends=True),
                    fromfile=path, tofile="schema as derived now")
                self.stderr.write("".join(diff))
                raise CommandError(
                    f"the GraphQL schema differs from {path}: if the change is intended, "
                    f"run `manage.py export_schema {path}` and commit it")
            self.stdout.write(f"{path} is up to date")
        elif path:
            Path(path).write_text(sdl)
            self.stdout.write(f"Wrote {path}")
        else:
            self.stdout.write(sdl, ending="")
