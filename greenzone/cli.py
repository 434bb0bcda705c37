"""The ``checkpoint`` command. Usage errors (a missing argument, a bad option value) print
typer's usage line and exit 2; runtime errors print as one line and exit 1; ``--debug``
shows the traceback. Subcommands of a part that is not installed (the hub on a node) say so.

typer carries its own copy of click (``typer._click``) and raises its exceptions, so this
module catches none of click's: typer's standalone mode handles usage errors, Ctrl-C and
``--help``, and only the project's own errors come out of ``app()``."""

from __future__ import annotations

import logging
import os
import signal
import sys
from importlib.metadata import PackageNotFoundError, version
from types import FrameType
from typing import Annotated

import typer

from checkpoint.errors import CheckpointError, MissingExtraError
from edge.cli import edge_app, sim_command
from greenzone.commands import demo, install_files, provision, release, stack, validate
from hub.cli import hub_app
from hub.passes.cli import passes_app

app = typer.Typer(
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


def _register_parts() -> None:
    # Each part's commands live with the part; importing them imports only the base
    # install (typer, pydantic): what needs an extra is imported when a command runs.
    app.add_typer(edge_app, name="edge")
    app.add_typer(hub_app, name="hub")
    app.add_typer(passes_app, name="passes")
    app.add_typer(release.release_app, name="release")
    app.command("sim")(sim_command)
    app.command("demo")(demo.demo_command)
    app.command("validate-config")(validate.validate_command)
    app.command("stack")(stack.stack_command)
    app.command("provision")(provision.provision_command)
    app.command("install-files")(install_files.install_files_command)


_register_parts()


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
