"""A real PostgreSQL (Debian's ``postgresql``) in a scratch directory on a loopback port.

PostgreSQL refuses to run as root. As root we hand the data directory to the ``postgres``
system user and start the server through ``setpriv``, which execs in place (so the pid we
hold is the postmaster's) and re-arms the parent-death signal that a change of user clears.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from checkpoint.errors import StackError
from checkpoint.localstack.process import port_answers
from checkpoint.localstack.server import LoopbackServer

_SYSTEM_USER = "postgres"


def find_pg_bin(name: str) -> str:
    """Debian keeps the server programs out of PATH, under /usr/lib/postgresql/<v>/bin."""
    found = shutil.which(name)
    if found:
        return found
    # Newest major version first: Debian may keep an old cluster's binaries around.
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
        reverse=True,
    )
    if candidates:
        return candidates[0]
    raise StackError(f"{name} not found: install the Debian package 'postgresql'")


class Postgres(LoopbackServer):
    """``url`` is a SQLAlchemy URL for the ``postgres`` database as the superuser."""

    name = "postgres"

    def __init__(self, workdir: Path, *, port: int | None = None) -> None:
        super().__init__(workdir, port=port)
        # As root, the server runs as 'postgres', which cannot enter a root-only scratch
        # dir (pytest's are 0700): its files then live in a temp dir of its own.
        self._own_dir: Path | None = None
        if os.geteuid() == 0:
            self._own_dir = Path(tempfile.mkdtemp(prefix="checkpoint-pg-"))
            entry = pwd.getpwnam(_SYSTEM_USER)
            os.chown(self._own_dir, entry.pw_uid, entry.pw_gid)
        base = self._own_dir or workdir
        self.datadir = base / "data"
        self.sockdir = base / "sock"

    @property
    def user(self) -> str:
        return _SYSTEM_USER

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        entry = pwd.getpwnam(_SYSTEM_USER)
        return [
            "setpriv",
            f"--reuid={entry.pw_uid}",
            f"--regid={entry.pw_gid}",
            "--init-groups",
            "--pdeathsig=TERM",
            *argv,
        ]

    def _initdb(self) -> None:
        if (self.datadir / "PG_VERSION").exists():
            return
        self.sockdir.mkdir(parents=True, exist_ok=True)
        if self._own_dir is not None:
            entry = pwd.getpwnam(_SYSTEM_USER)
            os.chown(self.sockdir, entry.pw_uid, entry.pw_gid)
        argv = [
            find_pg_bin("initdb"),
            "-D",
            str(self.datadir),
            "-U",
            _SYSTEM_USER,
            "--auth=trust",  # loopback and a private socket dir: tests only
            "--no-sync",  # a scratch cluster; durability of initdb itself does not matter
            "-E",
            "UTF8",
        ]
        done = subprocess.run(self._as_owner(argv), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise StackError(f"initdb failed: {done.stderr.strip()[-500:]}")

    def _program(self) -> str:
        self._initdb()
        return find_pg_bin("postgres")

    def _argv(self, program: str) -> list[str]:
        return self._as_owner(
            [
                program,
                "-D",
                str(self.datadir),
                "-p",
                str(self.port),
                "-k",
                str(self.sockdir),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=40",
            ]
        )

    def _ready(self) -> bool:
        if not port_answers(self.port):
            return False
        # The port opens before recovery ends; pg_isready says when it takes queries.
        done = subprocess.run(
            [find_pg_bin("pg_isready"), "-h", self.host, "-p", str(self.port), "-q"],
            check=False,
        )
        return done.returncode == 0

    def create_database(self, name: str) -> str:
        """Create database ``name`` (a plain id) and return its SQLAlchemy URL."""
        if not name.replace("_", "").isalnum():
            raise StackError(f"database name {name!r} must be letters, digits and '_'")
        done = subprocess.run(
            [
                find_pg_bin("createdb"),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                self.user,
                name,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise StackError(f"createdb {name} failed: {done.stderr.strip()}")
        return self.url(name)

    def stop(self) -> None:
        """A "fast" shutdown (SIGINT): SIGTERM's "smart" one would wait for every client
        to disconnect, and a connection pool never does. The data stays: ``start`` or
        ``restart`` brings the same cluster back."""
        if self._proc is None:
            return
        popen = self._proc.proc
        if popen is not None and popen.poll() is None:
            popen.send_signal(signal.SIGINT)
            # On a timeout, ManagedProcess.stop below escalates to SIGTERM, then SIGKILL.
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(15)
        self._proc.stop()
        self._proc = None

    def remove(self) -> None:
        """Stop and delete the cluster's files (those in a temp dir of our own)."""
        self.stop()
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    def __enter__(self) -> Postgres:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.remove()
