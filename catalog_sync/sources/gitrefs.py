"""Reading refs from disk: a local repository's tip costs a file read, not a ``git`` process.

Loose refs, ``packed-refs`` and symbolic refs are read as git stores them; work trees (``.git``
folders), bare repositories and linked work trees (``.git`` files with ``commondir``) are recognised.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from catalog_sync.errors import SourceError

_SHA = re.compile(r"[0-9a-f]{40}")


def find_git_dir(path: str | Path) -> Path | None:
    """The git directory of ``path`` (a work tree with ``.git``, or a bare repository), else None.

    Called for every folder of a local source on every discovery, so it costs one ``stat`` for the
    common cases and uses ``os.path`` rather than ``pathlib``.
    """
    folder = os.fspath(path)
    dot_git = os.path.join(folder, ".git")
    try:
        mode = os.stat(dot_git).st_mode
    except OSError:
        mode = 0
    if stat.S_ISDIR(mode):
        return Path(dot_git)
    if stat.S_ISREG(mode):
        text = Path(dot_git).read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            target = Path(text[len("gitdir:") :].strip())
            target = target if target.is_absolute() else Path(folder) / target
            return target if (target / "HEAD").is_file() else None
        return None
    if (
        os.path.isfile(os.path.join(folder, "HEAD"))
        and os.path.isdir(os.path.join(folder, "objects"))
        and os.path.isdir(os.path.join(folder, "refs"))
    ):
        return Path(folder)
    return None


def common_dir(git_dir: str | Path) -> str:
    """Where objects and shared refs live; differs from ``git_dir`` only for linked work trees."""
    folder = os.fspath(git_dir)
    try:
        with open(os.path.join(folder, "commondir"), encoding="utf-8") as handle:
            text = handle.read().strip()
    except OSError:
        return folder
    return text if os.path.isabs(text) else os.path.realpath(os.path.join(folder, text))


def read_head(git_dir: str | Path) -> str:
    """What HEAD names: ``refs/heads/<branch>``, or a commit id when HEAD is detached."""
    try:
        with open(os.path.join(git_dir, "HEAD"), encoding="utf-8") as handle:
            text = handle.read().strip()
    except OSError as exc:
        raise SourceError(f"{git_dir}: cannot read HEAD ({exc.strerror})") from exc
    return text[4:].strip() if text.startswith("ref:") else text


def resolve_ref(git_dir: str | Path, name: str, *, shared: str | None = None) -> str | None:
    """The commit id ``name`` (e.g. ``refs/heads/main``) points to, from loose refs or packed-refs.

    ``shared`` is the common directory when the caller already knows it (a bare repository or a main
    work tree's ``.git``: the directory itself), which saves looking for a ``commondir`` file.
    """
    base = shared if shared is not None else common_dir(git_dir)
    for _ in range(10):
        if not name.startswith("refs/") or ".." in name.split("/"):
            return None
        try:
            with open(os.path.join(base, name), encoding="utf-8") as handle:
                text = handle.read().strip()
        except (OSError, UnicodeDecodeError):
            return _packed_ref(base, name)
        if not text.startswith("ref:"):
            return text if _SHA.fullmatch(text) else None
        name = text[4:].strip()
    return None


def _packed_ref(base: str, name: str) -> str | None:
    try:
        with open(os.path.join(base, "packed-refs"), encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith(("#", "^")):
                    continue
                sha, _, ref = line.rstrip("\n").partition(" ")
                if ref == name and _SHA.fullmatch(sha):
                    return sha
    except OSError:
        return None
    return None


def list_tags(base: str, *, max_refs: int) -> list[tuple[str, str]]:
    """``(tag name, sha)`` of every tag under ``refs/tags`` (loose ones win over packed ones), at most
    ``max_refs`` of them, sorted by name; the sha is the tag's own object (peel annotated ones)."""
    found: dict[str, str] = {}
    try:
        with open(os.path.join(base, "packed-refs"), encoding="utf-8", errors="replace") as handle:
            for line in handle:
                sha, _, ref = line.rstrip("\n").partition(" ")
                if ref.startswith("refs/tags/") and _SHA.fullmatch(sha) and len(found) < max_refs:
                    found[ref[10:]] = sha
    except OSError:
        pass
    root = os.path.join(base, "refs", "tags")
    for folder, _, files in os.walk(root):
        for file in files:
            if len(found) >= max_refs:
                break
            path = os.path.join(folder, file)
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read(100).strip()
            except (OSError, UnicodeDecodeError):
                continue
            if _SHA.fullmatch(text):
                found[os.path.relpath(path, root).replace(os.sep, "/")] = text
    return sorted(found.items())


__all__ = ["common_dir", "find_git_dir", "list_tags", "read_head", "resolve_ref"]
