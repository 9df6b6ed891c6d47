"""The differential tests on the third-party corpus (tests/corpus), in a child pytest:
the corpus apps need their own settings module, which a running Django cannot switch.

The child uses the same database server (its own test database, suffixed ``_corpus``)
and prints its cases and timing; ``CORPUS_CASES`` sets the generated cases per run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(900)
def test_the_corpus_answers_as_the_orm() -> None:
    env = dict(os.environ)
    env["TEST_DB_SUFFIX"] = env.get("TEST_DB_SUFFIX", "") + "_corpus"
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--ds", "tests.corpus.settings", "--hypothesis-show-statistics",
         "tests/corpus/check_corpus.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=850,
    )
    print(result.stdout[-6000:], result.stderr[-3000:])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
