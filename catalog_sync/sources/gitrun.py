"""Running one git command against a remote we do not control, within a deadline and a size budget.

A host can answer slowly on purpose (a tarpit that accepts the connection and never speaks), or send
far more than any catalog needs. So every git process runs in its own process group, is watched while
it runs, and is killed with its helpers (``git-remote-https``, ``ssh``) when its deadline passes or a
watch says stop; its output goes to temporary files, so a chatty git never blocks on a full pipe.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_FIRST_POLL = 0.005
_LONGEST_POLL = 0.25
MAX_OUTPUT_BYTES = 8 * 1024 * 1024
"""What git may print in all (refs, progress, ``remote:`` lines) before it is stopped: a catalog reads a
few lines, and a host that streams messages must not fill the disk or the memory of the process."""
KEPT_ERROR_BYTES = 64 * 1024
"""The end of git's error output kept for explaining a failure."""


@dataclass(frozen=True)
class GitResult:
    """A finished git process: its exit status and its output, decoded leniently."""

    status: int
    out: str
    err: str


class GitStoppedError(Exception):
    """A git process was killed before it finished: ``reason`` says why (its deadline, a watch)."""

    def __init__(self, reason: str, *, timed_out: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


Watch = Callable[[], str | None]
"""Called while git runs; answers why git must stop now, or ``None`` to let it go on."""


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _wait(process: subprocess.Popen[bytes], deadline: float, watch: Watch | None) -> int:
    """Wait for ``process``; stop it when ``deadline`` (monotonic) passes or ``watch`` says so."""
    poll = _FIRST_POLL
    while True:
        left = deadline - time.monotonic()
        try:
            return process.wait(timeout=max(0.0, min(poll, left)))
        except subprocess.TimeoutExpired:
            pass
        reason = watch() if watch is not None else None
        if reason is not None:
            _kill(process)
            raise GitStoppedError(reason, timed_out=False)
        if time.monotonic() >= deadline:
            _kill(process)
            raise GitStoppedError("deadline", timed_out=True)
        poll = min(poll * 2, _LONGEST_POLL)


def run_git(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None,
    timeout: float,
    watch: Watch | None = None,
) -> GitResult:
    """Run ``git args`` with ``env`` added to this process's environment; ``GitStoppedError`` when it was
    killed (``timed_out`` when its ``timeout`` in seconds passed)."""
    environment = {**os.environ, "LANGUAGE": "C", "LC_ALL": "C", **env}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:

        def too_much() -> str | None:
            printed = os.fstat(out.fileno()).st_size + os.fstat(err.fileno()).st_size
            if printed > MAX_OUTPUT_BYTES:
                return f"git printed more than {MAX_OUTPUT_BYTES} bytes of output; the command was stopped"
            return None

        def watch_output() -> str | None:
            return too_much() or (watch() if watch is not None else None)

        process = subprocess.Popen(
            ["git", *args],
            cwd=str(cwd) if cwd else None,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            status = _wait(process, time.monotonic() + timeout, watch_output)
        finally:
            if process.poll() is None:
                _kill(process)
        reason = too_much()
        if reason is not None:  # git finished between two looks, but printed past the limit all the same
            raise GitStoppedError(reason, timed_out=False)
        out.seek(0)
        err.seek(max(0, os.fstat(err.fileno()).st_size - KEPT_ERROR_BYTES))
        return GitResult(status, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


def pack_bytes(cache: Path) -> int:
    """Bytes of the packs in a bare clone, the one being received included (``tmp_pack_*``)."""
    total = 0
    with contextlib.suppress(FileNotFoundError), os.scandir(cache / "objects" / "pack") as entries:
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                total += entry.stat(follow_symlinks=False).st_size
    return total


def remove_partial_packs(cache: Path) -> None:
    """Drop what a killed fetch left half written, so the disk does not keep it."""
    for partial in (cache / "objects" / "pack").glob("tmp_*"):
        with contextlib.suppress(OSError):
            partial.unlink()


_MEANINGS = (
    (("could not resolve host", "name or service not known"), "the host name does not resolve"),
    (("timed out",), "the connection to the host timed out"),
    (
        ("failed to connect", "couldn't connect", "connection refused", "no route to host",
         "network is unreachable"),
        "could not connect to the host",
    ),
    (("ssl", "certificate", "tls"), "the host's TLS certificate or handshake was refused"),
    (
        ("authentication failed", "could not read username", "could not read password",
         "terminal prompts disabled", "permission denied", "returned error: 401", "returned error: 403"),
        "the host asks for credentials (configure them for git, never in the URL)",
    ),
    (
        ("returned error: 404", "not found", "does not appear to be a git repository",
         "is this a git repository", "does not exist"),
        "no git repository at this URL (or it needs credentials)",
    ),
    (("redirect",), "the host redirects elsewhere, which registered repositories may not follow"),
    (("couldn't find remote ref",), "the branch is not on the remote"),
)  # fmt: skip


def explain_failure(stderr: str, status: int) -> str:
    """What a failed git command means, in our words: never the host's own text, which a hostile or
    internal host controls (``remote:`` lines, an HTTP error page, a banner)."""
    text = stderr.lower()
    for needles, meaning in _MEANINGS:
        if any(needle in text for needle in needles):
            return meaning
    return f"the host did not answer as a git server (exit status {status})"


__all__ = [
    "GitResult",
    "GitStoppedError",
    "Watch",
    "explain_failure",
    "pack_bytes",
    "remove_partial_packs",
    "run_git",
]
