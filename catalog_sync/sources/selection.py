"""Which parts of a commit's tree one scan needs, so a snapshot walks those and skips the rest.

A scan needs three kinds of path: files some glob may match (``descriptors.patterns``, and a
Location's glob targets), files named exactly (a Location's target, a fact such as ``README.md``), and
folders whose only question is "does a file live below?" (a fact such as ``docs/``: the walk stops
looking inside once it has seen one file there). A folder none of them can reach is never read, so a
huge subtree beside the descriptors costs one tree entry, not its contents.

The files directly inside an asked-for folder are read with the folder itself (one tree object), so
they are remembered too (``files_in_folders``, at most ``MAX_FILES_IN_FOLDERS``): a scorecard asking
for ``docs/index.md`` can be answered when ``docs/`` is a fact path. Deeper files are not: the walk
does not go further down than it must.
"""

from __future__ import annotations

from collections.abc import Iterable

from catalog_sync.descriptors.patterns import compile_patterns, folder_globs

MAX_FILES_IN_FOLDERS = 1000
"""Files directly inside the asked-for folders remembered at most, per walk."""


def in_listed_folder(path: str, folders: Iterable[str]) -> bool:
    """Whether ``path`` is a file directly inside one of ``folders`` (paths ending in ``/``)."""
    parent = path[: path.rfind("/") + 1]
    return bool(parent) and parent in set(folders)


class TreeSelection:
    """A ``PathSelection`` for one walk; remembers which asked-for folders turned out to hold a file."""

    def __init__(
        self, *, globs: Iterable[str] = (), files: Iterable[str] = (), folders: Iterable[str] = ()
    ) -> None:
        patterns = tuple(globs)
        self._glob = compile_patterns(patterns)
        self._folder_globs = folder_globs(patterns)
        self._states = {"": self._folder_globs.start()}
        self._files = set(files)
        self._parents = {path[: i + 1] for path in self._files for i, c in enumerate(path) if c == "/"}
        self._folders = [f for f in dict.fromkeys(folders) if f.endswith("/")]
        self.occupied: set[str] = set()
        """Folders of ``folders`` below which the walk met at least one file."""
        self.files_in_folders: set[str] = set()
        """Files the walk met directly inside a folder of ``folders``."""
        self._folder_set = set(self._folders)

    def enters(self, folder: str) -> bool:
        """Whether the walk must read ``folder`` (a path ending in ``/``); asked just before reading it."""
        if folder in self._parents or self._folder_globs.may_hold(self._glob_states(folder)):
            return True
        for wanted in self._folders:
            if wanted.startswith(folder):
                return True
            if folder.startswith(wanted) and wanted not in self.occupied:
                return True
        return False

    def _glob_states(self, folder: str) -> frozenset[tuple[int, int]]:
        """The glob states of ``folder``, stepped from its nearest known ancestor's (the walk asks about
        a parent before its children, so that is usually the parent)."""
        missing: list[str] = []
        at = folder
        while at not in self._states:
            missing.append(at)
            at = at[: at.rfind("/", 0, len(at) - 1) + 1]
        states = self._states[at]
        for path in reversed(missing):
            cut = path.rfind("/", 0, len(path) - 1) + 1
            states = self._folder_globs.step(states, path[cut:-1])
            self._states[path] = states
        return states

    def keeps(self, path: str) -> bool:
        """Whether the file at ``path`` (of a folder the walk entered) belongs in the listing."""
        for wanted in self._folders:
            if path.startswith(wanted):
                self.occupied.add(wanted)
        if (
            len(self.files_in_folders) < MAX_FILES_IN_FOLDERS
            and path[: path.rfind("/") + 1] in self._folder_set
        ):
            self.files_in_folders.add(path)
        return path in self._files or self._glob.match(path) is not None


__all__ = ["MAX_FILES_IN_FOLDERS", "TreeSelection", "in_listed_folder"]
