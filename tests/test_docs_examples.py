"""Every command and code block of the README and the documentation runs as written.

The convention (also in docs/how-to/run-tests.md, "How the documentation is
tested"): a fenced block's language says what happens to it.

- ``bash``: run with ``bash -e`` in the page's folder; every line is a command.
- ``python``: run as a script of its own (so ``if __name__ == "__main__":`` and
  worker processes work).
- ``yaml``: a scenario fragment: each ``---`` document, added to the baseline,
  must validate.
- any language with ``title="PATH"``: the file at PATH (relative to the page's
  folder) for the blocks after it; a titled scenario or sweep file is also
  validated as ``python run.py validate`` does.
- ``text``: output, formulas and diagrams, not run; it may not hold a command line.

Any other language, or none, fails (``docs/architecture.md`` excepted: its
unlabelled blocks are diagrams). Each page runs in a fresh temporary folder
holding a copy of ``scenarios/``, ``run.py``, ``mkdocs.yml`` and ``docs/``, with
this checkout's ``simulator`` first on ``PYTHONPATH`` and this interpreter's
folder first on ``PATH`` (so ``python``, ``mkdocs`` and ``dask`` are this
environment's). Lines that would install or recurse are checked, not run:
``pip install ...`` (its extras must exist in pyproject.toml), ``python -m
pytest ...`` (this test is part of that suite), ``python mutation/run.py
...`` (minutes long) and ``python docs/_tools/gallery.py`` (it rewrites the
docs' images); the files they name must exist and a ``--only`` mutant must be
listed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
UNLABELLED_IS_TEXT = {"docs/architecture.md"}  # not ours to relabel: its blocks are diagrams
KNOWN = {"bash", "python", "yaml", "text"}
COMMAND_LINE = re.compile(r"^\s*(\$ |python3? |pip3? |mujun |mkdocs |bash )")
PAGE_TIMEOUT_S = 600


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    title: str | None
    body: str

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[Path]:
    found = [ROOT / "README.md"]
    found += sorted(p for p in DOCS.rglob("*.md") if "_hooks" not in p.relative_to(DOCS).parts)
    return found


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, with their language, title and body."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out, i = [], 0
    while i < len(lines):
        match = _OPEN.match(lines[i])
        if not match or "`" in match.group("info"):
            i += 1
            continue
        indent, fence = match.group("indent"), match.group("fence")
        info = match.group("info").strip()
        start = i
        body = []
        i += 1
        while i < len(lines) and not (lines[i].strip() == fence
                                      and lines[i].startswith(indent)):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1
        lang = info.split()[0] if info else ""
        title = re.search(r'title="([^"]+)"', info)
        out.append(Block(_rel(path), start + 1, lang, title.group(1) if title else None,
                         "\n".join(body) + "\n"))
    return out


def all_blocks() -> list[Block]:
    return [b for page in pages() for b in blocks(page)]


# -- checks that need no running ---------------------------------------------------------

def test_every_block_says_what_it_is():
    wrong = []
    for b in all_blocks():
        lang = b.lang or ("text" if b.page in UNLABELLED_IS_TEXT else "")
        if lang not in KNOWN:
            wrong.append(f"{b.where}: block language {b.lang!r}; use one of {sorted(KNOWN)}")
        elif lang == "text" and b.title is None:
            commands = [line for line in b.body.splitlines() if COMMAND_LINE.match(line)]
            if commands:
                wrong.append(f"{b.where}: a text block holds a command ({commands[0]!r}): "
                             "make it a bash block so that it runs")
    assert wrong == []


# -- lines that are checked, not run --------------------------------------------------

def _extras() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return set(project.get("optional-dependencies", {}))


def _check_pip(words: list[str], where: str) -> None:
    assert words[:2] == ["pip", "install"], f"{where}: {' '.join(words)}"
    for word in words[2:]:
        if word.startswith("-"):
            continue
        target = re.fullmatch(r"(?P<path>[^\[]+)(\[(?P<extras>[^\]]*)\])?", word)
        assert target, f"{where}: cannot read pip target {word!r}"
        if target.group("path") == ".":
            for extra in filter(None, (target.group("extras") or "").split(",")):
                assert extra in _extras(), f"{where}: no extra {extra!r} in pyproject.toml"


def _check_developer_command(words: list[str], where: str) -> None:
    """``python -m pytest ...`` and the maintainers' scripts: the paths and ids exist."""
    if words[1:3] == ["-m", "pytest"]:
        args = words[3:]
    else:
        args = words[2:]
        assert (ROOT / words[1]).is_file(), f"{where}: no file {words[1]}"
        if "--only" in args:
            listed = (ROOT / "mutation" / "mutants.yaml").read_text(encoding="utf-8")
            ids = args[args.index("--only") + 1:]
            ids = ids[: next((k for k, a in enumerate(ids) if a.startswith("-")), len(ids))]
            for mutant in ids:
                assert re.search(rf"\b{re.escape(mutant)}\b", listed), \
                    f"{where}: mutant {mutant} is not in mutation/mutants.yaml"
    for arg in args:
        if not arg.startswith("-") and ("/" in arg or arg.endswith(".py")):
            assert (ROOT / arg.split("::")[0]).exists(), f"{where}: no {arg} in the repository"


#: Maintainers' commands whose file is checked, not run: minutes long, or rewriting the
#: repository's own files (the gallery regenerates docs/images; the tests of the figures,
#: the brief and the card check what it draws).
DEVELOPER_SCRIPTS = ("mutation/run.py", "docs/_tools/gallery.py")


def _is_developer_command(words: list[str]) -> bool:
    return words[:3] == ["python", "-m", "pytest"] or (
        len(words) >= 2 and words[0] == "python" and words[1] in DEVELOPER_SCRIPTS)


def runnable_shell(block: Block) -> str:
    """The block's shell text with the checked-not-run parts checked and taken out."""
    joined = re.sub(r"\\\n\s*", " ", block.body)
    keep = []
    for line in joined.splitlines():
        parts = [p.strip() for p in line.split("&&")]
        run = []
        for part in parts:
            code = part.split(" #")[0].strip()
            try:
                words = shlex.split(code) if code else []
            except ValueError:  # not a whole command (e.g. a line of a here-document)
                words = []
            env = []
            while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
                env.append(words.pop(0))
            if words[:2] == ["pip", "install"]:
                _check_pip(words, block.where)
            elif _is_developer_command(words):
                _check_developer_command(words, block.where)
            else:
                run.append(part)
        if run:
            keep.append(" && ".join(run))
    return "\n".join(keep) + "\n"


# -- running a page ---------------------------------------------------------------------

def _sandbox(tmp: Path) -> None:
    shutil.copytree(ROOT / "scenarios", tmp / "scenarios")
    shutil.copy2(ROOT / "run.py", tmp / "run.py")
    shutil.copy2(ROOT / "mkdocs.yml", tmp / "mkdocs.yml")
    shutil.copytree(DOCS, tmp / "docs", ignore=shutil.ignore_patterns("__pycache__"))


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUJUN_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["MPLBACKEND"] = "Agg"
    env["COLUMNS"] = "120"
    env["NO_MKDOCS_2_WARNING"] = "1"  # Material's banner about MkDocs 2
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _run(args: list[str], cwd: Path, block: Block) -> None:
    proc = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=PAGE_TIMEOUT_S, check=False, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, (
        f"{block.where}: exit status {proc.returncode}\n--- block\n{block.body}"
        f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}")


def _kind(data: object) -> str:
    if isinstance(data, dict) and "base" in data and "parameters" in data:
        return "sweep"
    if isinstance(data, dict) and ("extends" in data or "population" in data):
        return "scenario"
    return "other"


def _validate(path: Path, block: Block) -> None:
    """What ``python run.py validate PATH`` does, in this process (no interpreter start-up)."""
    from simulator.cli import main

    status = main(["validate", str(path)])
    assert status == 0, f"{block.where}: {block.title} does not validate (exit status {status})"


def _validate_fragments(block: Block, cwd: Path) -> None:
    """Each document of an untitled YAML block, added to the baseline, is a valid scenario."""
    from simulator.scenario import ScenarioError, load_scenario

    for k, doc in enumerate(yaml.safe_load_all(block.body)):
        assert isinstance(doc, dict), f"{block.where}: document {k} is not a mapping"
        doc = {"extends": "baseline.yaml", "name": "docs_fragment", **doc}
        path = cwd / "scenarios" / f"_docs_fragment_{block.line}_{k}.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        try:
            load_scenario(path)
        except ScenarioError as exc:
            pytest.fail(f"{block.where}: document {k} does not validate: {exc}")


def run_page(page: Path, cwd: Path) -> None:
    _sandbox(cwd)
    for n, block in enumerate(blocks(page)):
        if block.title is not None:
            target = cwd / block.title
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.body, encoding="utf-8")
            if block.lang == "yaml" and _kind(yaml.safe_load(block.body)) != "other":
                _validate(target, block)
        elif block.lang == "bash":
            script = cwd / f".docs_block_{n}.sh"
            script.write_text(runnable_shell(block), encoding="utf-8")
            _run(["bash", "-e", "-o", "pipefail", script.name], cwd, block)
        elif block.lang == "python":
            script = cwd / f"docs_block_{n}.py"
            script.write_text(block.body, encoding="utf-8")
            _run([sys.executable, script.name], cwd, block)
        elif block.lang == "yaml":
            _validate_fragments(block, cwd)


RUNNABLE = [p for p in pages() if any(b.lang in ("bash", "python", "yaml") or b.title
                                      for b in blocks(p))]
#: pages run at once (each page's commands run one after the other)
JOBS = max(1, min(2, os.cpu_count() or 1))


def _cost(page: Path) -> int:
    """Rough cost of a page, to start the longest first: its commands and scripts."""
    cost = 0
    for b in blocks(page):
        if b.lang == "bash" and b.title is None:
            cost += sum(4 if "run.py run" in line or "run.py compare" in line
                        or "run.py sweep" in line or line.strip() == "python run.py" else 1
                        for line in b.body.splitlines() if line.strip())
        elif b.lang == "python" and b.title is None:
            cost += 4
    return cost


@pytest.fixture(scope="module")
def page_results(request, tmp_path_factory) -> dict[str, tuple[str | None, float]]:
    """Run every selected page, ``JOBS`` at a time: page -> (failure or None, seconds)."""
    wanted = {item.callspec.params["page"] for item in request.session.items
              if getattr(item, "originalname", "") == "test_the_page_runs_as_written"}

    def one(page: Path) -> tuple[str | None, float]:
        start = time.perf_counter()
        try:
            run_page(page, tmp_path_factory.mktemp(page.stem))
        except BaseException as exc:  # noqa: BLE001 - reported by the page's own test
            return f"{type(exc).__name__}: {exc}", time.perf_counter() - start
        return None, time.perf_counter() - start

    order = sorted((p for p in RUNNABLE if p in wanted), key=_cost, reverse=True)
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        results = dict(zip(order, pool.map(one, order), strict=True))
    return {_rel(page): result for page, result in results.items()}


@pytest.mark.parametrize("page", RUNNABLE, ids=[_rel(p) for p in RUNNABLE])
def test_the_page_runs_as_written(page, page_results, record_property):
    failure, seconds = page_results[_rel(page)]
    record_property("seconds", round(seconds, 1))
    if failure is not None:
        pytest.fail(failure, pytrace=False)
