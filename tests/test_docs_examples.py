"""Every ```python block of docs/*.md runs as written, so the examples stay true.

A block preceded by ``<!-- requires: MODULE -->`` is skipped when MODULE is not importable (an
optional extra). Blocks run from the repository root, each in a fresh namespace; a block that
reads ``../shared/`` data is skipped when that folder is absent. When the tests run outside the
source tree (CI's installed-wheel pass), there is no docs/ folder and everything here is skipped.
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


@pytest.mark.skipif(not (ROOT / "docs").is_dir(), reason="not in a source tree (no docs/)")
def test_docs_have_examples():
    assert any(p.values[0].name == "task_laws.md" for p in BLOCKS)


@pytest.mark.parametrize(("path", "line", "requires", "code"), BLOCKS)
def test_docs_example_runs(path, line, requires, code, monkeypatch):
    missing = [r for r in requires if importlib.util.find_spec(r) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (optional extra)")
    if "../shared/" in code and not (ROOT.parent / "shared").is_dir():
        pytest.skip("shared data folder not present")
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": f"docs_example_{path.stem}_{line}"}
    exec(compile(code, f"{path.relative_to(ROOT)}:{line}", "exec"), namespace)
