"""The frozen application's entry point: the same `workbench` command as the console script
(workbench.cli:main), so `workbench --version`, `workbench demo` and, with no subcommand,
the desktop app all work from the built folder."""

import sys

from workbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
