"""Shared parts of the checkpoint system: the message contract, settings, CLI, local stack."""

from importlib.metadata import PackageNotFoundError, version

try:
    # The installed wheel's version, so a release restamped or rebuilt reports its own.
    __version__ = version("greenzone-checkpoint")
except PackageNotFoundError:  # a source tree on sys.path without an install
    __version__ = "0+unknown"
