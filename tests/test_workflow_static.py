"""Static checks of the workflow: every rule's keywords, conda envs that cover imports, lint."""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

#: import name -> conda-forge package name, where they differ
CONDA_NAME = {"yaml": "pyyaml", "torch": "pytorch", "torch_geometric": "pytorch_geometric"}


def rules() -> list[tuple[str, str, str]]:
    """(file, rule name, body) of every rule and checkpoint in rules/*.smk."""
    found = []
    for smk in sorted((REPO / "rules").glob("*.smk")):
        text = smk.read_text()
        heads = list(re.finditer(r"^(?:rule|checkpoint) (\w+):\n", text, re.M))
        for i, m in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            found.append((smk.name, m.group(1), text[m.end() : end]))
    return found


RULES = [r for r in rules() if "script:" in r[2]]


def keyword(body: str, key: str) -> str | None:
    m = re.search(rf"^    {key}:\n\s+\"([^\"]+)\"", body, re.M)
    return m.group(1) if m else None


def third_party_imports(path: Path, seen: set[Path]) -> set[str]:
    """Top-level third-party modules imported by ``path`` and the seismake modules it uses."""
    if path in seen:
        return set()
    seen.add(path)
    mods: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            top = name.split(".")[0]
            if top == "seismake":
                spec = importlib.util.find_spec(name) if _is_module(name) else None
                if spec and spec.origin and spec.origin.endswith(".py"):
                    mods |= third_party_imports(Path(spec.origin), seen)
                    parent = Path(spec.origin).parent / "__init__.py"
                    if parent.exists():
                        mods |= third_party_imports(parent, seen)
            elif top not in sys.stdlib_module_names and top != "__future__":
                mods.add(top)
    return mods


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ModuleNotFoundError, ValueError):
        return False


@pytest.mark.parametrize("smk, name, body", RULES, ids=[r[1] for r in RULES])
def test_rule_has_conda_log_benchmark(smk, name, body):
    for key in ("conda", "log", "benchmark", "threads"):
        assert re.search(rf"^    {key}:", body, re.M), f"{smk}: rule {name} lacks {key}:"


@pytest.mark.parametrize("smk, name, body", RULES, ids=[r[1] for r in RULES])
def test_rule_env_lists_every_import(smk, name, body):
    env_file = (REPO / "rules" / keyword(body, "conda")).resolve()
    script = (REPO / "rules" / keyword(body, "script")).resolve()
    env = yaml.safe_load(env_file.read_text())
    listed = {re.split(r"[=<>]", d)[0] for d in env["dependencies"] if isinstance(d, str)}
    assert (env_file.with_suffix("").name + ".post-deploy.sh") in {
        p.name for p in env_file.parent.iterdir()
    }, f"{env_file.name}: no post-deploy script installing seismake"
    needed = {CONDA_NAME.get(m, m) for m in third_party_imports(script, set())}
    needed.discard("snakemake")  # the running snakemake provides the script's object
    missing = needed - listed
    assert not missing, f"rule {name}: {env_file.name} lacks {sorted(missing)}"


def test_snakemake_lint_clean():
    proc = subprocess.run(
        [str(BIN / "snakemake"), "--lint", "--nocolor"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Congratulations" in out, out


def test_snakefmt_clean():
    files = ["Snakefile", *sorted(str(p) for p in (REPO / "rules").glob("*.smk"))]
    proc = subprocess.run(
        [str(BIN / "snakefmt"), "--check", *files], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
