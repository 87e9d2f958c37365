"""The ``explore`` command: the interactive explorer, a local web app (Dash).

It loads the scenario, computes the baseline once at the explorer's size,
opens the browser (unless ``--no-browser``) and serves the app until
interrupted. Without Dash it says how to install it and exits with status 2.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import threading
import time
import webbrowser
from pathlib import Path

from simulator.cli.parser import EXIT_INPUT
from simulator.scenario import ScenarioError, default_scenario_path, load_scenario

__all__ = ["explore_command"]

#: What to run when Dash is missing.
INSTALL_HINT = 'pip install -e ".[explore]"'


def explore_command(args: argparse.Namespace) -> int:
    """Serve the explorer on ``--host``:``--port`` until interrupted (``explore``)."""
    try:
        from simulator.explore.app import build_app
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("dash", "flask", "plotly"):
            raise
        print(f"error: the explorer needs Dash, which is not installed: {INSTALL_HINT}",
              file=sys.stderr)
        return EXIT_INPUT
    from simulator.explore.runs import Explorer
    from simulator.explore.texts import size_text

    if args.firms < 2:
        raise ScenarioError(f"--firms must be at least 2; got {args.firms}", field="--firms")
    if args.replications < 1:
        raise ScenarioError(f"--replications must be at least 1; got {args.replications}",
                            field="--replications")

    _check_port(args.host, args.port)
    base_file = Path(args.scenario) if args.scenario else default_scenario_path()
    base = load_scenario(base_file)
    explorer = Explorer(base, firms=args.firms, replications=args.replications)
    pop = base.population
    size = size_text(explorer.size, pop.n_industrial + pop.n_services, "en")
    print(f"explore {base.name}: {size}", flush=True)
    started = time.perf_counter()
    print("computing the baseline once...", end=" ", flush=True)
    explorer.base_metrics()
    print(f"done in {time.perf_counter() - started:.1f} s", flush=True)
    app = build_app(explorer, base_file=base_file, lang=args.lang)
    for name in ("werkzeug", "dash"):  # no line per request, no repeated start message
        logging.getLogger(name).setLevel(logging.WARNING)
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/"
    print(f"the explorer is at {url} (Ctrl+C to stop)", flush=True)
    if not args.no_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    app.run(host=args.host, port=args.port, debug=False)
    return 0


def _check_port(host: str, port: int) -> None:
    """Raise ScenarioError (exit 2) unless ``host``:``port`` is free to serve on."""
    if not 0 < port < 65536:
        raise ScenarioError(f"--port must be 1-65535; got {port}", field="--port")
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, port))
    except OSError as exc:
        raise ScenarioError(f"cannot serve on {host}:{port} ({exc.strerror or exc}); "
                            "choose another with --port or --host", field="--port") from None
