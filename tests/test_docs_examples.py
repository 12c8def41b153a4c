"""Every ```python block of docs/*.md runs as written, so the examples stay true.

A block preceded by ``<!-- requires: MODULE -->`` needs an optional extra, which the test extra
installs: a missing one fails. Blocks run from the folder holding docs/ (the repository root, or a
copy of tests/ and docs/ in CI's installed-wheel pass), each in a fresh namespace.
"""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"(?:<!--\s*requires:\s*(?P<req>[\w., ]+?)\s*-->\s*\n)?```python\n(?P<code>.*?)\n```",
                   re.DOTALL)


def _blocks():
    for md in sorted((ROOT / "docs").glob("*.md")):
        text = md.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            line = text[: m.start("code")].count("\n") + 1
            reqs = [r.strip() for r in (m.group("req") or "").split(",") if r.strip()]
            yield pytest.param(md, line, reqs, m.group("code"), id=f"{md.name}:{line}")


BLOCKS = list(_blocks())


def test_docs_have_examples():
    assert (ROOT / "docs").is_dir(), f"no docs/ beside {ROOT / 'tests'}"
    assert any(p.values[0].name == "task_laws.md" for p in BLOCKS)


@pytest.mark.parametrize(("path", "line", "requires", "code"), BLOCKS)
def test_docs_example_runs(path, line, requires, code, monkeypatch):
    missing = [r for r in requires if importlib.util.find_spec(r) is None]
    assert not missing, f"needs {', '.join(missing)}: pip install '.[test]'"
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": f"docs_example_{path.stem}_{line}"}
    exec(compile(code, f"{path.relative_to(ROOT)}:{line}", "exec"), namespace)
