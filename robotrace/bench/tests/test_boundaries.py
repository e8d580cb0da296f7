"""The benchmarks sit on top of everything and the provider agent beside it: read from the
source files (every import, those inside functions included)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import robotrace
from robotrace.bench.registry import BENCHMARKS

PACKAGE = Path(robotrace.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of everything a file imports; `from a import b` yields both `a`
    and `a.b`, so `from robotrace import simulator` is seen as what it is."""
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _sources() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _is_test(path: Path) -> bool:
    return "tests" in path.relative_to(PACKAGE).parts or path.name == "conftest.py"


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _offences(allowed: tuple[str, ...], target: str, *, tests_too: bool) -> list[str]:
    found = []
    for path in _sources():
        module = _module_name(path)
        if any(_within(module, a) for a in allowed) or (_is_test(path) and not tests_too):
            continue
        for line, name in _imports(path):
            if _within(name, target):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    return sorted(set(found))


def test_it_finds_imports_inside_functions_and_relative_ones(tmp_path) -> None:
    path = PACKAGE / "bench" / "harness.py"
    names = {name for _, name in _imports(path)}
    assert "robotrace" in names and "django.db.transaction" in names  # the latter inside a function


def test_nothing_outside_the_benchmarks_imports_them() -> None:
    assert _offences(("robotrace.bench",), "robotrace.bench", tests_too=True) == []


def test_only_the_benchmarks_and_the_simulator_import_the_simulator() -> None:
    # Tests may draw synthetic robocalls and scripts from it (the simulator serves the demo
    # and the tests); nothing that runs in the platform does.
    assert _offences(("robotrace.bench", "robotrace.simulator"), "robotrace.simulator", tests_too=False) == []


def test_no_app_depends_on_the_provider_agent() -> None:
    # robotrace.cli hands `robotrace provider-agent` its arguments; the simulator's agents
    # match calls with the agent's records, as a provider's would.
    allowed = ("robotrace.agent", "robotrace.cli", "robotrace.simulator", "robotrace.bench")
    assert _offences(allowed, "robotrace.agent", tests_too=True) == []


def test_the_provider_agent_uses_only_core_helpers_of_the_server() -> None:
    found = []
    for path in sorted((PACKAGE / "agent").rglob("*.py")):
        if _is_test(path):
            continue  # its tests run it against the real server
        for line, name in _imports(path):
            if _within(name, "robotrace") and not (_within(name, "robotrace.agent") or _within(name, "robotrace.core")):
                found.append(f"{path.name}:{line} imports {name}")
            if _within(name, "django"):
                found.append(f"{path.name}:{line} imports {name}")
    assert found == []


def test_bench_help_lists_every_benchmark_and_every_benchmark_is_registered() -> None:
    from robotrace.bench.management.commands.bench import Command

    text = Command().create_parser("robotrace", "bench").format_help()
    for name in BENCHMARKS:
        assert name in text
    modules = set()
    for path in (PACKAGE / "bench").glob("*.py"):
        defined = {n.name for n in ast.parse(path.read_text(encoding="utf-8")).body if isinstance(n, ast.FunctionDef)}
        if {"add_arguments", "run"} <= defined:
            modules.add(_module_name(path))
    assert modules == set(BENCHMARKS.values())
