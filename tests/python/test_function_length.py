"""No function over 60 lines in the product package, the dashboard or the developer tooling:
a function that long does several things, and each deserves a name."""

from __future__ import annotations

import ast
from pathlib import Path

from reporter.warehouse import PROJECT_DIR

MAX_LINES = 60
CHECKED = ("reporter", "dashboards", "demo_data", "bench")


def long_functions(folder: Path, max_lines: int = MAX_LINES) -> list[str]:
    """`path:line name (n lines)` for each function or method longer than `max_lines`,
    counted from its `def` to its last line (nested functions count on their own too)."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > max_lines:
                    where = path.relative_to(folder.parent)
                    found.append(f"{where}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_longer_than_60_lines():
    found = [entry for folder in CHECKED for entry in long_functions(PROJECT_DIR / folder)]
    assert not found, "split these into named steps:\n" + "\n".join(found)


def test_the_check_finds_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "long.py").write_text(f"def short():\n    pass\n\n\ndef long():\n{body}\n")
    assert [entry.split(" ")[1] for entry in long_functions(tmp_path)] == ["long"]
