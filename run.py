"""Mujun command line: ``python run.py`` runs the embedded default scenario end to end.

See ``python run.py --help`` and the README for the commands.
"""

import sys

from simulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
