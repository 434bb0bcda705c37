"""The ``checkpoint`` command. Usage errors (a missing argument, a bad option value) print
typer's usage line and exit 2; runtime errors print as one line and exit 1; ``--debug``
shows the traceback. Subcommands of a part that is not installed (the hub on a node) say so.

typer carries its own copy of click (``typer._click``) and raises its exceptions, so this
module catches none of click's: typer's standalone mode handles usage errors, Ctrl-C and
``--help``, and only the project's own errors come out of ``app()``.

Each command is imported from its part when it runs (or when help lists it): a node on a
Pi Zero (512 MB) running ``checkpoint edge run`` loads the node, not the hub's config
models, the demo's console or provisioning."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
from collections.abc import Iterator, MutableMapping
from importlib.metadata import PackageNotFoundError, version
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.main
from typer.core import TyperGroup

from checkpoint.errors import CheckpointError, MissingExtraError

if TYPE_CHECKING:
    from typer._click import Command

# name -> (module, attribute): a command function or a Typer app (a group of commands),
# in the order help lists them.
# Each part's commands live with the part; importing them imports only the base install
# (typer, pydantic): what needs an extra is imported when a command runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "sim": ("edge.cli", "sim_command"),
    "demo": ("greenzone.commands.demo", "demo_command"),
    "validate-config": ("greenzone.commands.validate", "validate_command"),
    "stack": ("greenzone.commands.stack", "stack_command"),
    "provision": ("greenzone.commands.provision", "provision_command"),
    "install-files": ("greenzone.commands.install_files", "install_files_command"),
    "edge": ("edge.cli", "edge_app"),
    "hub": ("hub.cli", "hub_app"),
    "passes": ("hub.passes.cli", "passes_app"),
    "release": ("greenzone.commands.release", "release_app"),
}


def build_command(name: str) -> Command:
    """The click command ``name`` stands for, its part imported now."""
    module, attribute = COMMANDS[name]
    found = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):
        command: Command = typer.main.get_group(found)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(found)
        command = typer.main.get_command(single)
    command.name = name
    return command


class _Commands(MutableMapping[str, "Command"]):
    """The top-level group's commands by name, each built when first looked up. Listing
    the names (usage errors suggest the nearest) builds none."""

    def __init__(self) -> None:
        self._built: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            self._built[name] = build_command(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._built

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(COMMANDS), **self._built})

    def __len__(self) -> int:
        return len(COMMANDS.keys() | self._built.keys())


class _LazyGroup(TyperGroup):
    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        lazy = _Commands()
        lazy.update(self.commands)
        self.commands = lazy


app = typer.Typer(
    cls=_LazyGroup,
    help="Green-zone checkpoint system: nodes, hub, simulator and demo.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
DISTRIBUTION = "greenzone-checkpoint"
_state = {"debug": bool(os.environ.get("CHECKPOINT_DEBUG"))}


def _sigterm_as_exit(_signum: int, _frame: FrameType | None) -> None:
    # systemd and `kill` send SIGTERM: unwind through the context managers like Ctrl-C.
    raise KeyboardInterrupt


def installed_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"checkpoint {installed_version()}")
        raise typer.Exit


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    _state["debug"] = _state["debug"] or debug
    logging.basicConfig(
        level=logging.DEBUG if _state["debug"] else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Per-request lines from the HTTP client would drown what the demo prints.
    logging.getLogger("httpx").setLevel(logging.DEBUG if _state["debug"] else logging.WARNING)
    signal.signal(signal.SIGTERM, _sigterm_as_exit)
    # A shell without job control starts background commands with SIGINT ignored, and
    # Python then leaves it ignored: take Ctrl-C back so that it always stops cleanly.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if "--debug" in args:
        _state["debug"] = True
    try:
        # Standalone mode: typer prints usage errors with the usage line and exits 2,
        # turns Ctrl-C into exit 130, and exits 0 after a command returns.
        app(args=args, prog_name="checkpoint")
    except (CheckpointError, OSError, ImportError) as exc:
        if _state["debug"]:
            raise
        if isinstance(exc, ImportError) and not isinstance(exc, MissingExtraError):
            exc = MissingExtraError(f"{exc}: is the right extra installed? (see README)")
        # One line, so that it reads well in a journal; config errors list each problem.
        print(f"error: {'; '.join(str(exc).splitlines())}", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:
        if _state["debug"]:
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
        sys.exit(1)
