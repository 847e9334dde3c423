"""What a hosting source remembers of each repository's tip, so an unchanged one costs no request.

A listing already tells, per repository, a value that moves when the repository is pushed to (GitHub's
``pushed_at``, GitLab's ``last_activity_at``): the *marker*. When the marker and the tracked branch are
those of the last time the tip was asked, the tip is answered from here and the host hears nothing.
The memory is one small JSON file per source under the cache folder, written atomically, so a restarted
worker's first pass is as cheap as the others; losing it only costs one request per repository.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

_VERSION = 1
_SAVE_EVERY = 5.0
"""Seconds between two writes of the file while tips are learned (a pass over thousands of changed
repositories writes it a few times, not once per repository)."""


@dataclass(frozen=True)
class KnownTip:
    """A tip as it was asked: the marker and branch it was asked under, and when (epoch seconds)."""

    marker: str
    branch: str
    tip: str
    checked_at: float


class TipMemory:
    """The tips of one source's repositories, by repository key; thread-safe."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._tips: dict[str, KnownTip] = self._load()
        self._saved_at = time.monotonic()
        self._dirty = False

    def known(self, key: str, marker: str, branch: str) -> KnownTip | None:
        """The tip remembered for ``key`` when it was asked under this very marker and branch."""
        with self._lock:
            found = self._tips.get(key)
        if found is None or found.marker != marker or found.branch != branch:
            return None
        return found

    def remember(self, key: str, marker: str, branch: str, tip: str) -> None:
        """Keep the tip just asked; written to the file now and then, and by ``save``."""
        with self._lock:
            self._tips[key] = KnownTip(marker, branch, tip, time.time())
            self._dirty = True
            due = time.monotonic() - self._saved_at >= _SAVE_EVERY
        if due:
            self.save()

    def keep_only(self, keys: Iterable[str]) -> None:
        """Forget repositories no longer listed, so the file follows the listing and stays small."""
        wanted = set(keys)
        with self._lock:
            dropped = [key for key in self._tips if key not in wanted]
            for key in dropped:
                del self._tips[key]
            self._dirty = self._dirty or bool(dropped)

    def save(self) -> None:
        """Write the file if anything changed since it was last written (atomically)."""
        with self._lock:
            if not self._dirty:
                return
            text = json.dumps(
                {"version": _VERSION, "tips": {key: asdict(tip) for key, tip in self._tips.items()}},
                separators=(",", ":"),
            )
            self._dirty = False
            self._saved_at = time.monotonic()
        with contextlib.suppress(OSError):  # a read-only cache costs requests, never the pass
            self._path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._path.with_name(f"{self._path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(self._path)

    def _load(self) -> dict[str, KnownTip]:
        with contextlib.suppress(OSError, ValueError, TypeError):
            stored = json.loads(self._path.read_text(encoding="utf-8"))
            if isinstance(stored, dict) and stored.get("version") == _VERSION:
                tips = stored.get("tips")
                if isinstance(tips, dict):
                    return {str(key): _tip(value) for key, value in tips.items()}
        return {}


def _tip(value: object) -> KnownTip:
    if not isinstance(value, dict):
        raise TypeError("not a remembered tip")
    marker, branch, tip, checked = (value.get(k) for k in ("marker", "branch", "tip", "checked_at"))
    if not all(isinstance(v, str) for v in (marker, branch, tip)) or not isinstance(checked, int | float):
        raise TypeError("not a remembered tip")
    return KnownTip(str(marker), str(branch), str(tip), float(checked))


__all__ = ["KnownTip", "TipMemory"]
