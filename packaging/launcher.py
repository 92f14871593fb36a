"""The frozen application's entry point: the same `workbench` command as the console script
(workbench.cli:main), so `workbench --version`, `workbench demo` and, with no subcommand,
the desktop app all work from the built folder."""

import sys

from workbench.cli import main

if __name__ == "__main__":
    # Bulk lookups from the desktop app run in a spawned child process; in a frozen app
    # the child re-runs this program, and freeze_support turns it into that child.
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(main())
