"""``catalog-sync validate`` on a working copy: which files to check, and the two ways to report them.

A file named on the command line is checked whatever its name (a developer asked for it); a folder is
walked and files matching ``descriptors.patterns`` are checked, the patterns applied relative to the
folder and to each folder below it, since any of them may be a repository's root (a folder of checked
out repositories is validated in one call). Files that a Location names by a relative path inside the
walked folder are checked too, as the sync would read them. Symbolic links are refused, as the sync
refuses them in a repository. ``.git`` folders are skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from catalog_sync.config import DescriptorSettings
from catalog_sync.descriptors.loader import LoadLimits
from catalog_sync.descriptors.parsed import ParsedFile
from catalog_sync.descriptors.patterns import matches
from catalog_sync.descriptors.problems import Problem
from catalog_sync.descriptors.relations import location_targets
from catalog_sync.descriptors.validate import parse_file
from catalog_sync.textsafe import escape_controls

SYMLINK_REFUSED = "a symbolic link; descriptors are read only from regular files"


def _refused(path: str, message: str) -> ParsedFile:
    return ParsedFile(path, problems=[Problem(path, "error", message)])


def check_file(path: str, limits: LoadLimits) -> ParsedFile:
    """Read one regular file (never more than the size limit allows) and parse it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(limits.max_file_bytes + 1)
    except OSError as exc:
        return _refused(path, f"cannot read the file: {exc.strerror or exc}")
    return parse_file(path, data, limits)


def _matches_below(relative: str, patterns: tuple[str, ...]) -> bool:
    """True when the path, seen from the walked folder or any folder below it, is a descriptor."""
    parts = relative.split("/")
    return any(matches("/".join(parts[i:]), patterns) for i in range(len(parts)))


def _location_files(results: list[ParsedFile], root: str) -> list[str]:
    """Files inside ``root`` that Locations of ``results`` name and the walk has not checked."""
    seen = {os.path.normpath(r.path) for r in results}
    top = os.path.realpath(root)
    found: list[str] = []
    for parsed in results:
        folder = os.path.dirname(parsed.path)
        for doc in parsed.documents:
            if doc.entity is None or doc.entity.kind != "Location":
                continue
            for target in location_targets(doc.entity):
                for candidate in (
                    sorted(Path(folder).glob(target)) if "*" in target else [Path(folder, target)]
                ):
                    path = os.path.normpath(candidate)
                    inside = os.path.realpath(path).startswith(top + os.sep)
                    if inside and path not in seen and os.path.isfile(path):
                        seen.add(path)
                        found.append(path)
    return found


def _walk(root: str, settings: DescriptorSettings, limits: LoadLimits) -> list[ParsedFile]:
    results: list[ParsedFile] = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if name != ".git")
        candidates = sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(folder, d))]
        for name in candidates:
            full = os.path.join(folder, name)
            relative = Path(os.path.relpath(full, root)).as_posix()
            if not _matches_below(relative, settings.patterns):
                continue
            shown = os.path.normpath(os.path.join(root, relative))
            if os.path.islink(full):
                results.append(_refused(shown, SYMLINK_REFUSED))
            elif os.path.isfile(full):
                results.append(check_file(shown, limits))
    pending = _location_files(results, root)
    while pending:
        extra = [check_file(path, limits) for path in pending]
        results.extend(extra)
        pending = _location_files(results, root)
    return results


def check_paths(paths: list[str], settings: DescriptorSettings) -> list[ParsedFile]:
    """Validate each file named and every descriptor under each folder named, in a stable order."""
    limits = LoadLimits(max_file_bytes=settings.max_file_bytes)
    results: list[ParsedFile] = []
    for given in paths:
        if os.path.islink(given):
            results.append(_refused(given, SYMLINK_REFUSED))
        elif os.path.isdir(given):
            results.extend(_walk(given, settings, limits))
        elif os.path.isfile(given):
            results.append(check_file(given, limits))
        elif os.path.exists(given):
            results.append(_refused(given, "not a regular file"))
        else:
            results.append(_refused(given, "no such file or folder"))
    return results


def _counts(results: list[ParsedFile]) -> dict[str, int]:
    problems = [p for r in results for p in r.all_problems()]
    return {
        "files": len(results),
        "entities": sum(len(r.documents) for r in results),
        "errors": sum(p.severity == "error" for p in problems),
        "warnings": sum(p.severity == "warning" for p in problems),
    }


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"1 {word}"
    return f"{count} {'entities' if word == 'entity' else word + 's'}"


def render_text(results: list[ParsedFile]) -> str:
    """One ``path:line:col: severity: field: message [ref]`` line per problem, then a summary line.

    Paths, keys and messages quote the repository, so each line is escaped (``escape_controls``): a
    file name cannot forge a second problem line or steer the terminal.
    """
    lines = [escape_controls(p.format()) for r in results for p in r.all_problems()]
    c = _counts(results)
    lines.append(
        f"{_plural(c['files'], 'file')}, {_plural(c['entities'], 'entity')}: "
        f"{_plural(c['errors'], 'error')}, {_plural(c['warnings'], 'warning')}"
    )
    return "\n".join(lines) + "\n"


def render_json(results: list[ParsedFile]) -> str:
    """The same as JSON, for CI and editors: per file its entities and problems; all problems; counts.
    Field names are the API's (``entityRef``, camelCase)."""
    counts = _counts(results)
    body = {
        "valid": counts["errors"] == 0,
        "counts": counts,
        "files": [
            {
                "path": r.path,
                "valid": not r.has_errors,
                "entities": [
                    {
                        "index": d.index,
                        "line": d.line,
                        "column": d.column,
                        "entityRef": d.ref,
                        "valid": d.valid,
                    }
                    for d in r.documents
                ],
                "problems": [p.to_dict() for p in r.all_problems()],
            }
            for r in results
        ],
        "problems": [p.to_dict() for r in results for p in r.all_problems()],
    }
    return json.dumps(body, indent=2) + "\n"
