"""The Rights-Investigation Workbench: cases, storefronts, lookups and evidence in one store."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("workbench")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
