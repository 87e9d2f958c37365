"""Mutation testing of Mujun's economic core over a listed set of mutants.

Each mutant in ``mutation/mutants.yaml`` is one realistic mistake in one line
of the economic core (evaluation, tariffs, quota markets, population, engine,
dynamics, investment): a threshold read with ``>`` for ``>=``, a lost term, a
wrong unit factor, a swapped class. The command applies the mutants one at a
time to a private copy of the working tree, runs the fast test files listed
with each mutant, and records it as

* **killed**: the tests fail (or cannot even be collected, or time out);
* **survived**: the tests pass. A survivor is either killed by a new test or
  marked ``equivalent: "reason"`` in the list, when no observable behaviour
  can differ; equivalent survivors are left out of the score's denominator;
* **error**: the mutant's original text does not occur exactly once in its
  file (the list is stale) or the mutated Python file does not compile. Reported
  loudly; the command then exits with status 2.

Usage (from the repository root, in the project's environment)::

    python mutation/run.py                     # every mutant, writes mutation/RESULTS.md
    python mutation/run.py --jobs 2            # two copies of the tree, two mutants at once
    python mutation/run.py --only EVAL-01 ...  # some mutants; prints, writes no RESULTS.md
    python mutation/run.py --only ENG-08 --tests tests/   # a survivor against other tests

The run takes tens of minutes, so it is run by hand, outside CI (``.ci/run``
does not call it). The working tree itself is never modified: the tracked and
untracked (not ignored) files are copied to a temporary directory per job, a
mutant is written there and the original text is restored in a ``finally``
after its tests. Before the mutants, the test files they use are run once on
the unmutated copy; if they fail, nothing is scored (exit status 2).

Exit status: 0 when every survivor is marked equivalent, 1 when a survivor is
not, 2 on a stale or invalid mutant or a failing baseline.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutation" / "mutants.yaml"
RESULTS = ROOT / "mutation" / "RESULTS.md"
PYTEST = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
FIELDS = ("id", "file", "original", "replacement", "description", "tests")


@dataclass(frozen=True)
class Mutant:
    """One listed mutation: replace ``original`` (exactly once in ``file``) by ``replacement``."""

    id: str
    file: str
    original: str
    replacement: str
    description: str
    tests: tuple[str, ...]
    equivalent: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What happened to one mutant."""

    mutant: Mutant
    status: str  # "killed", "survived" or "error"
    detail: str  # the first failing test, the reason of an error, ...
    seconds: float


def load_mutants(path: Path = MUTANTS) -> list[Mutant]:
    """Return the mutants listed in ``path``, checked for their fields and unique ids."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise SystemExit(f"{path}: expected a list of mutants")
    mutants, seen = [], set()
    for i, entry in enumerate(entries):
        missing = [k for k in FIELDS if k not in entry]
        unknown = sorted(set(entry) - {*FIELDS, "equivalent"})
        if missing or unknown:
            raise SystemExit(f"{path}: mutant #{i + 1} ({entry.get('id', '?')}): "
                             f"missing {missing}, unknown {unknown}")
        if entry["id"] in seen:
            raise SystemExit(f"{path}: duplicate mutant id {entry['id']}")
        seen.add(entry["id"])
        if entry["original"] == entry["replacement"]:
            raise SystemExit(f"{path}: mutant {entry['id']} changes nothing")
        mutants.append(Mutant(**{**entry, "tests": tuple(entry["tests"])}))
    return mutants


# ------------------------------------------------------------------ the private copies


def _tree_files() -> list[str]:
    """Files of the working tree as they are now: tracked, and untracked but not ignored."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, check=True, capture_output=True).stdout
    return sorted({name for name in out.decode().split("\0") if name})


def make_copy(files: list[str]) -> Path:
    """Copy ``files`` of the working tree (and numba's kernel cache) to a new temporary dir."""
    dest = Path(tempfile.mkdtemp(prefix="mujun-mutation-"))
    for name in files:
        src, dst = ROOT / name, dest / name
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree, not yet in the index
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)  # keep mtimes: numba's cache checks them
    cache = ROOT / "simulator" / "markets" / "kernels" / "__pycache__"
    if cache.is_dir():
        target = dest / "simulator" / "markets" / "kernels" / "__pycache__"
        target.mkdir(parents=True, exist_ok=True)
        for item in cache.glob("*.nb[ic]"):
            shutil.copy2(item, target / item.name)
    return dest


def _env(copy: Path, *, write_bytecode: bool) -> dict[str, str]:
    """Environment of a test run in ``copy``: its own ``simulator`` first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(copy), env.get("PYTHONPATH")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not write_bytecode:
        # The mutated module is compiled from its source every time, never from a .pyc
        # written for another version of it within the same second.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["HYPOTHESIS_PROFILE"] = "default"  # derandomized: the examples CI draws (conftest.py)
    return env


def _drop_bytecode(path: Path) -> None:
    for pyc in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
        pyc.unlink(missing_ok=True)


def check_copy(copy: Path) -> None:
    """Fail unless ``import simulator`` in ``copy`` imports the copy's package."""
    out = subprocess.run([sys.executable, "-c", "import simulator; print(simulator.__file__)"],
                         cwd=copy, env=_env(copy, write_bytecode=True), capture_output=True,
                         text=True, check=True).stdout.strip()
    if not Path(out).resolve().is_relative_to(copy.resolve()):
        raise SystemExit(f"the copy in {copy} imports simulator from {out}, not from the copy")


def run_tests(copy: Path, tests: tuple[str, ...], *, timeout: float,
              write_bytecode: bool = False) -> tuple[int | None, str]:
    """Run pytest on ``tests`` in ``copy``; return (exit code or None on timeout, output)."""
    try:
        done = subprocess.run([*PYTEST, *tests], cwd=copy, capture_output=True, text=True,
                              timeout=timeout, env=_env(copy, write_bytecode=write_bytecode))
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return None, out
    return done.returncode, done.stdout + done.stderr


def _first_failure(output: str) -> str:
    """The first test the summary names as failed or in error, else the last line."""
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return re.sub(r"\s+-\s.*$", "", line.split(" ", 1)[1]).strip()
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def apply_and_test(mutant: Mutant, copy: Path, *, timeout: float) -> Outcome:
    """Apply ``mutant`` in ``copy``, run its tests, and restore the file (always)."""
    started = time.perf_counter()
    path = copy / mutant.file
    if not path.is_file():
        return Outcome(mutant, "error", f"file {mutant.file} not found", 0.0)
    original = path.read_text(encoding="utf-8")
    count = original.count(mutant.original)
    if count != 1:
        return Outcome(mutant, "error", f"original text found {count} times in {mutant.file} "
                       "(expected exactly once): the list is stale", 0.0)
    mutated = original.replace(mutant.original, mutant.replacement)
    try:
        if path.suffix == ".py":  # a data file (the catalogue's YAML) is read as it is
            compile(mutated, str(path), "exec")
    except SyntaxError as exc:
        return Outcome(mutant, "error", f"the mutated file does not compile: {exc}", 0.0)
    try:
        path.write_text(mutated, encoding="utf-8")
        _drop_bytecode(path)
        code, output = run_tests(copy, mutant.tests, timeout=timeout)
    finally:
        path.write_text(original, encoding="utf-8")
        _drop_bytecode(path)
    seconds = time.perf_counter() - started
    if code is None:
        return Outcome(mutant, "killed", f"timeout after {timeout:g} s", seconds)
    if code == 0:
        return Outcome(mutant, "survived", "", seconds)
    if code in (1, 2):  # failed tests; collection error (e.g. the module no longer imports)
        return Outcome(mutant, "killed", _first_failure(output), seconds)
    return Outcome(mutant, "error", f"pytest exit code {code}: {_first_failure(output)}",
                   seconds)


# ------------------------------------------------------------------------ reporting


def _revision() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "simulator", "tests"],
                           cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    return f"{head} (with uncommitted changes in simulator/ or tests/)" if dirty else head


def score(outcomes: list[Outcome]) -> tuple[int, int]:
    """Return (killed, scored): equivalent survivors and errors are not scored."""
    killed = sum(o.status == "killed" for o in outcomes)
    survived = sum(o.status == "survived" and not o.mutant.equivalent for o in outcomes)
    return killed, killed + survived


def _module(path: str) -> str:
    return path.removeprefix("simulator/").removesuffix(".py")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def write_results(outcomes: list[Outcome], *, jobs: int, seconds: float, path: Path) -> None:
    """Write the score, the survivors and every mutant's outcome as Markdown."""
    killed, scored = score(outcomes)
    equivalent = [o for o in outcomes if o.status == "survived" and o.mutant.equivalent]
    lines = [
        "# Mutation testing: results",
        "",
        f"Written by `python mutation/run.py --jobs {jobs}` on "
        f"{dt.date.today().isoformat()} at revision {_revision()}, in {seconds / 60:.1f} min. "
        "The mutants, with the tests run for each, are listed in `mutation/mutants.yaml`; "
        "how the command works is in its docstring.",
        "",
        f"**Score: {killed} killed / {scored} = {100.0 * killed / max(scored, 1):.1f}%** "
        f"({len(outcomes)} mutants; {len(equivalent)} equivalent, left out of the "
        "denominator).",
        "",
        "| module | mutants | killed | survived | equivalent | error |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for module in sorted({_module(o.mutant.file) for o in outcomes}):
        mine = [o for o in outcomes if _module(o.mutant.file) == module]
        lines.append(
            f"| {module} | {len(mine)} | {sum(o.status == 'killed' for o in mine)} | "
            f"{sum(o.status == 'survived' and not o.mutant.equivalent for o in mine)} | "
            f"{sum(o.status == 'survived' and bool(o.mutant.equivalent) for o in mine)} | "
            f"{sum(o.status == 'error' for o in mine)} |")
    lines += ["", "## Survivors", ""]
    survivors = [o for o in outcomes if o.status == "survived"]
    if survivors:
        lines += ["| id | file | mutation | equivalent because |", "|---|---|---|---|"]
        for o in survivors:
            m = o.mutant
            reason = m.equivalent or "**NOT EXPLAINED: needs a test that kills it**"
            lines.append(f"| {m.id} | {_module(m.file)} | {_cell(m.description)} | "
                         f"{_cell(reason)} |")
    else:
        lines.append("None.")
    errors = [o for o in outcomes if o.status == "error"]
    if errors:
        lines += ["", "## Errors (stale or invalid mutants)", ""]
        lines += [f"- {o.mutant.id} ({o.mutant.file}): {o.detail}" for o in errors]
    lines += ["", "## Every mutant", "",
              "| id | module | mutation | outcome | first failing test | s |",
              "|---|---|---|---|---|---:|"]
    for o in outcomes:
        m = o.mutant
        status = "equivalent" if o.status == "survived" and m.equivalent else o.status
        if o.status == "killed" and m.equivalent:
            status = "killed (marked equivalent!)"
        lines.append(f"| {m.id} | {_module(m.file)} | {_cell(m.description)} | {status} | "
                     f"{_cell(o.detail) if o.status != 'survived' else ''} | {o.seconds:.0f} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _say(text: str, *, err: bool = False) -> None:
    """Write a line for the user (the command's output; stderr for errors)."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _report(outcome: Outcome, done: int, total: int) -> None:
    m = outcome.mutant
    status = outcome.status.upper() if outcome.status != "killed" else "killed"
    if outcome.status == "survived" and m.equivalent:
        status = "survived (equivalent)"
    detail = f"  [{outcome.detail}]" if outcome.detail else ""
    _say(f"[{done:3d}/{total}] {m.id:<10} {status:<22} {outcome.seconds:5.0f} s  "
         f"{m.description}{detail}")


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Run the mutants; return the exit status (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these mutants")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (copies)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds before a mutant's tests count as killed (hung)")
    parser.add_argument("--out", type=Path, default=None,
                        help="results file (default mutation/RESULTS.md for a full run; "
                             "none with --only)")
    parser.add_argument("--tests", nargs="+", metavar="PATH", default=None,
                        help="run these test paths for every mutant instead of its own "
                             "(e.g. to look for an existing test that kills a survivor)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"The '--jobs' option must be >= 1. Got {args.jobs} instead.")

    mutants = load_mutants()
    if args.only:
        unknown = sorted(set(args.only) - {m.id for m in mutants})
        if unknown:
            parser.error(f"unknown mutant id(s): {', '.join(unknown)}")
        mutants = [m for m in mutants if m.id in args.only]
    if args.tests:
        mutants = [dataclasses.replace(m, tests=tuple(args.tests)) for m in mutants]
    if args.list:
        for m in mutants:
            _say(f"{m.id:<10} {m.file:<36} {m.description}")
        return 0
    out = args.out if args.out is not None else (None if args.only or args.tests else RESULTS)

    started = time.perf_counter()
    files = _tree_files()
    jobs = min(args.jobs, len(mutants)) or 1
    copies = [make_copy(files) for _ in range(jobs)]
    try:
        check_copy(copies[0])
        tests = tuple(sorted({t for m in mutants for t in m.tests}))
        _say(f"baseline: {len(tests)} test paths on the unmutated tree ...")
        # Each copy once (at the same time): also writes its bytecode and kernel cache.
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            baselines = list(pool.map(lambda copy: run_tests(
                copy, tests, timeout=args.timeout, write_bytecode=True), copies))
        for code, output in baselines:
            if code != 0:
                _say(output[-3000:], err=True)
                _say("ERROR: the tests fail on the unmutated tree; nothing scored.", err=True)
                return 2
        _say(f"baseline passed in {time.perf_counter() - started:.0f} s; "
             f"{len(mutants)} mutants, {jobs} job(s)")

        free: queue.Queue[Path] = queue.Queue()
        for copy in copies:
            free.put(copy)
        outcomes: dict[str, Outcome] = {}

        def work(mutant: Mutant) -> Outcome:
            copy = free.get()
            try:
                return apply_and_test(mutant, copy, timeout=args.timeout)
            finally:
                free.put(copy)

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for future in as_completed([pool.submit(work, m) for m in mutants]):
                outcome = future.result()
                outcomes[outcome.mutant.id] = outcome
                _report(outcome, len(outcomes), len(mutants))
    finally:
        for copy in copies:
            shutil.rmtree(copy, ignore_errors=True)

    ordered = [outcomes[m.id] for m in mutants]
    seconds = time.perf_counter() - started
    killed, scored = score(ordered)
    _say(f"\nscore: {killed} killed / {scored} scored = {100.0 * killed / max(scored, 1):.1f}% "
         f"({len(ordered)} mutants) in {seconds / 60:.1f} min")
    if out is not None:
        write_results(ordered, jobs=jobs, seconds=seconds, path=out)
        _say(f"results: {out}")
    errors = [o for o in ordered if o.status == "error"]
    for o in errors:
        _say(f"ERROR: mutant {o.mutant.id} ({o.mutant.file}): {o.detail}", err=True)
    unexplained = [o for o in ordered if o.status == "survived" and not o.mutant.equivalent]
    for o in unexplained:
        _say(f"SURVIVOR: {o.mutant.id} ({o.mutant.file}): {o.mutant.description}", err=True)
    if errors:
        return 2
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
