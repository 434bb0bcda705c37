"""Small helpers shared by tests."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
CHECKPOINT = str(Path(sys.executable).with_name("checkpoint"))


def run_checkpoint(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed ``checkpoint`` command, run as a person runs it; never raises on its
    exit code."""
    return subprocess.run(
        [CHECKPOINT, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def pdftotext(pdf: Path, *options: str) -> str:
    """The text poppler reads from a PDF (``-layout``, ``-bbox`` ...)."""
    return subprocess.run(
        ["pdftotext", *options, str(pdf), "-"], capture_output=True, text=True, check=True,
        timeout=60,
    ).stdout  # fmt: skip


def wait_for(
    probe: Callable[[], T], *, timeout_s: float = 10.0, interval_s: float = 0.05, what: str = ""
) -> T:
    """Poll ``probe`` until it returns something truthy; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what or probe}")
        time.sleep(interval_s)


def live_processes_mentioning(text: str) -> list[int]:
    """PIDs of live (non-zombie) processes whose command line contains ``text``."""

    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(proc.name))
    return found
