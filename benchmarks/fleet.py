"""A fleet of real git repositories, large enough to tell whether a sync pass scales.

Spawning git (``git init``, ``git fast-import``) once per repository costs several milliseconds each,
minutes for a fleet of ten thousand; so each repository is written directly in git's on-disk format: a
minimal bare layout and one packfile with its index. The result is indistinguishable from a fresh
clone (``git fsck`` passes), and generating is deterministic for a given count and seed, apart from
commit dates, which are spread over the 90 days before generation so history facts are non-trivial.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

FORMAT_VERSION = 2
MARKER = ".fleet.json"
TOUCH_JOURNAL = ".touched.json"
MAX_AGE_SECONDS = 30 * 86400
DAY = 86400


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


TEAMS = _words(
    "payments checkout search catalog pricing inventory fulfilment shipping returns loyalty identity "
    "accounts notifications messaging analytics reporting data-platform ml-platform recommendations "
    "marketing content media mobile web-frontend design-system observability sre-core networking "
    "storage compute developer-experience build-tools security-engineering compliance "
    "finance-systems billing invoicing tax procurement hr-systems crm support-tools partner-api "
    "b2b-portal marketplace ads-platform experimentation localisation documents travel"
)
CAPABILITIES = _words(
    "order-management payment-processing customer-identity product-discovery pricing-management "
    "inventory-management order-fulfilment last-mile-delivery returns-handling customer-loyalty "
    "customer-communication business-intelligence data-management machine-learning "
    "content-management marketing-campaigns mobile-experience web-experience platform-operations "
    "network-services developer-productivity security-operations regulatory-compliance "
    "financial-accounting billing-and-invoicing procurement workforce-management customer-support "
    "partner-integration advertising"
)
ROLES = _words(
    "product-owner product-manager developer tester operations sre ux-designer architect security data"
)
FIRST = "ada alan barbara claude dennis edsger frances grace guido hedy ken linus margaret niklaus radia "
LAST = "lovelace turing liskov shannon ritchie dijkstra allen hopper rossum lamarr thompson torvalds "
NOUNS = "ledger gateway router indexer scheduler importer exporter tracker resolver broker planner cache"
KPIS = (
    ("Lead time for changes", "speed-to-market", (1, 10), "days"),
    ("Deployment frequency", "speed-to-market", (1, 20), "per-week"),
    ("Customer satisfaction", "customer-satisfaction", (70, 95), "csat"),
    ("Net promoter score", "customer-satisfaction", (20, 60), "nps"),
    ("Revenue influenced", "business-alignment", (1, 50), "meur"),
    ("Change failure rate", "team-performance", (5, 20), "percent"),
    ("Time to restore", "team-performance", (1, 8), "hours"),
)
SEVERITIES = ("low", "medium", "medium", "high", "critical")
CI_YAML = (
    "name: ci\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
    "    steps:\n      - uses: actions/checkout@v4\n      - run: make test\n"
)


@dataclass(frozen=True)
class FleetInfo:
    """Where a fleet lives and what it holds, so the harness can name counts without rescanning."""

    root: Path
    count: int
    seed: int
    repositories: int
    products: int
    teams: int
    capabilities: int
    generated_at: int
    seconds: float
    reused: bool


# --- git objects and packs -------------------------------------------------------------------------

_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3}


def _object(kind: bytes, body: bytes, store: dict[bytes, tuple[bytes, bytes]]) -> bytes:
    """Add one object to ``store`` (sha -> (kind, body)) and answer its binary sha."""
    sha = hashlib.sha1(b"%s %d\0" % (kind, len(body)) + body).digest()
    store[sha] = (kind, body)
    return sha


Tree = dict[str, "bytes | Tree"]


def _tree(entries: Tree, store: dict[bytes, tuple[bytes, bytes]]) -> bytes:
    """A tree from ``{name: blob sha | sub-mapping}``, sorted the way git sorts (trees as ``name/``)."""
    rows: list[tuple[bytes, bytes]] = []
    for name, value in entries.items():
        if isinstance(value, dict):
            rows.append((name.encode() + b"/", b"40000 " + name.encode() + b"\0" + _tree(value, store)))
        else:
            rows.append((name.encode(), b"100644 " + name.encode() + b"\0" + value))
    return _object(b"tree", b"".join(row for _, row in sorted(rows)), store)


def _commit(
    tree: bytes,
    parent: bytes | None,
    who: str,
    when: int,
    message: str,
    store: dict[bytes, tuple[bytes, bytes]],
) -> bytes:
    lines = [b"tree " + tree.hex().encode()]
    if parent is not None:
        lines.append(b"parent " + parent.hex().encode())
    person = f"{who} <{who.replace(' ', '.')}@example.com> {when} +0000".encode()
    lines += [b"author " + person, b"committer " + person, b"", message.encode()]
    return _object(b"commit", b"\n".join(lines) + b"\n", store)


def write_pack(objects_dir: Path, store: dict[bytes, tuple[bytes, bytes]]) -> str:
    """Write ``store`` as one undeltified pack and its v2 index; answer the pack's file stem."""
    body = [b"PACK" + struct.pack(">II", 2, len(store))]
    offset, rows = 12, []
    for sha, (kind, data) in store.items():
        size, header = len(data), bytearray()
        byte = (_TYPES[kind] << 4) | (size & 15)
        size >>= 4
        while size:
            header.append(byte | 0x80)
            byte, size = size & 0x7F, size >> 7
        header.append(byte)
        entry = bytes(header) + zlib.compress(data, 1)
        rows.append((sha, zlib.crc32(entry), offset))
        body.append(entry)
        offset += len(entry)
    pack = b"".join(body)
    checksum = hashlib.sha1(pack).digest()
    rows.sort()
    fanout, counts = [], [0] * 256
    for sha, _, _ in rows:
        counts[sha[0]] += 1
    total = 0
    for count in counts:
        total += count
        fanout.append(total)
    index = b"".join(
        (
            b"\xfftOc" + struct.pack(">I", 2),
            struct.pack(">256I", *fanout),
            b"".join(sha for sha, _, _ in rows),
            b"".join(struct.pack(">I", crc) for _, crc, _ in rows),
            b"".join(struct.pack(">I", off) for _, _, off in rows),
            checksum,
        )
    )
    index += hashlib.sha1(index).digest()
    stem = "pack-" + checksum.hex()
    pack_dir = objects_dir / "pack"
    pack_dir.mkdir(parents=True, exist_ok=True)
    (pack_dir / f"{stem}.pack").write_bytes(pack + checksum)
    (pack_dir / f"{stem}.idx").write_bytes(index)
    return stem


def _write_bare(path: Path, store: dict[bytes, tuple[bytes, bytes]], tip: bytes) -> None:
    """The smallest layout git accepts as a bare repository on branch ``main``."""
    (path / "refs" / "heads").mkdir(parents=True)
    (path / "refs" / "tags").mkdir()
    (path / "HEAD").write_text("ref: refs/heads/main\n")
    (path / "config").write_text("[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n")
    write_pack(path / "objects", store)
    (path / "refs" / "heads" / "main").write_text(tip.hex() + "\n")


# --- content -----------------------------------------------------------------------------------------


def product_name(number: int) -> str:
    """The product (and repository) name of the fleet's ``number``-th repository, 1-based."""
    return f"svc-{number:05d}"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST.split()).title()} {rng.choice(LAST.split()).title()}"


def render_product(number: int, count: int, rng: random.Random, revision: int) -> str:
    """One realistic Product descriptor; ``revision`` grows it the way real descriptors grow."""
    name, team, noun = product_name(number), rng.choice(TEAMS), rng.choice(NOUNS.split())
    caps = rng.sample(CAPABILITIES, rng.randint(1, 2))
    deps = sorted({product_name(rng.randint(1, count)) for _ in range(rng.randint(0, 2))} - {name})
    text = f"""apiVersion: catalog/v1
kind: Product
metadata:
  name: {name}
  title: {team.replace("-", " ").title()} {noun.title()} {number}
  description: The {noun} behind {caps[0].replace("-", " ")} for the {team} team.
  tags: [{team}, {noun}, tier-{rng.randint(1, 4)}]
  links:
    - {{url: 'https://grafana.example.com/d/{name}', title: Dashboard, type: dashboard}}
spec:
  type: service
  lifecycle: production
  owner: team:{team}
  tier: {rng.randint(1, 4)}
  capabilities: [{", ".join(f"capability:{c}" for c in caps)}]
"""
    if deps:
        text += "  dependsOn:\n" + "".join(f"    - product:{d}\n" for d in deps)
    text += f"""  outcomes:
    - Customers rely on {caps[0].replace("-", " ")} every day
    - Fewer manual steps for operations
  kpis:
"""
    for kpi, category, (low, high), unit in rng.sample(KPIS, 2 + min(revision, 1)):
        text += f"    - name: {kpi}\n      category: {category}\n"
        text += f"      target: {rng.randint(low, high)}\n      unit: {unit}\n"
    text += f"""  runbooks:
    - title: Restart the service
      url: 'https://runbooks.example.com/{name}/restart'
      automated: {str(rng.random() < 0.5).lower()}
  support:
    oncall: {team}-oncall
    channel: '#team-{team}'
    email: {team}@example.com
"""
    if revision >= 2:
        text += f"""  techDebt:
    - title: Replace the legacy {noun}
      severity: {rng.choice(SEVERITIES)}
      url: 'https://issues.example.com/{name}/{rng.randint(1, 999)}'
"""
    return text


def render_platform(rng: random.Random) -> dict[str, str]:
    """The platform repository's files: every team (members, roles) and every capability."""
    teams, caps = [], []
    for team in TEAMS:
        roles = ["product-owner", "developer", "developer", "operations", *rng.sample(ROLES, 2)]
        if rng.random() < 0.1:  # a few incomplete teams, so ownership gaps are not all zero
            roles.remove("operations")
        members = "\n".join(
            f"    - {{name: {_person(rng).lower().replace(' ', '.')}, role: {role}}}" for role in roles
        )
        teams.append(
            f"apiVersion: catalog/v1\nkind: Team\nmetadata:\n  name: {team}\n"
            f"  title: {team.replace('-', ' ').title()}\nspec:\n"
            f"  displayName: {team.replace('-', ' ').title()}\n  members:\n{members}\n"
            f"  contact: {{email: {team}@example.com, channel: '#team-{team}'}}\n"
        )
    for cap in CAPABILITIES:
        caps.append(
            f"apiVersion: catalog/v1\nkind: Capability\nmetadata:\n  name: {cap}\n"
            f"  title: {cap.replace('-', ' ').title()}\nspec:\n  owner: team:{rng.choice(TEAMS)}\n"
            f"  outcomes:\n    - Better {cap.replace('-', ' ')} for our customers\n"
        )
    return {
        ".catalog/teams.yaml": "---\n".join(teams),
        ".catalog/capabilities.yaml": "---\n".join(caps),
        "README.md": "# Platform\n\nTeams and business capabilities of the organisation.\n",
    }


def _nest(files: dict[str, bytes]) -> Tree:
    root: Tree = {}
    for path, sha in files.items():
        *folders, leaf = path.split("/")
        node = root
        for folder in folders:
            child = node.setdefault(folder, {})
            assert isinstance(child, dict)
            node = child
        node[leaf] = sha
    return root


def _build_repo(path: Path, history: list[tuple[int, str, dict[str, str]]]) -> None:
    """Write a repository whose commits are ``(time, message, files changed)``, oldest first."""
    store: dict[bytes, tuple[bytes, bytes]] = {}
    files: dict[str, bytes] = {}
    parent: bytes | None = None
    for when, message, changed in history:
        for name, text in changed.items():
            files[name] = _object(b"blob", text.encode(), store)
        tree = _tree(_nest(files), store)
        parent = _commit(tree, parent, _person(random.Random(when)), when, message, store)
    assert parent is not None
    _write_bare(path, store, parent)


def _build_products(root: Path, numbers: range, count: int, seed: int, now: int) -> None:
    for number in numbers:
        rng = random.Random(seed * 1_000_003 + number)
        state = rng.getstate()
        times = sorted(now - rng.randint(DAY // 2, 89 * DAY) for _ in range(3))
        readme = f"# {product_name(number)}\n\nThe {rng.choice(NOUNS.split())} service.\n"
        extras: dict[str, str] = {}
        if rng.random() < 0.6:
            extras[".github/workflows/ci.yml"] = CI_YAML
        if rng.random() < 0.4:
            extras["CODEOWNERS"] = f"* @acme/{rng.choice(TEAMS)}\n"
        history = []
        for revision, (when, message) in enumerate(
            zip(times, ("Start", "Add KPIs", "Record tech debt"), strict=True)
        ):
            rng.setstate(state)  # same product each revision, grown rather than replaced
            descriptor = render_product(number, count, rng, revision)
            changed = {"catalog-info.yaml": descriptor}
            changed.update({"README.md": readme} if revision == 0 else extras if revision == 1 else {})
            history.append((when, message, changed))
        _build_repo(root / f"{product_name(number)}.git", history)


# --- the public API ----------------------------------------------------------------------------------


def _read_marker(root: Path) -> dict[str, int] | None:
    try:
        marker: dict[str, int] = json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker


def generate_fleet(root: Path, count: int, *, seed: int = 0, workers: int | None = None) -> FleetInfo:
    """Build (or reuse) ``count`` product repositories plus ``platform.git`` under ``root``.

    A fleet of the same count, seed and format younger than 30 days is reused after undoing any
    ``touch_fraction`` left over from an interrupted run; anything else under ``root`` is replaced.
    """
    started = time.perf_counter()
    marker = _read_marker(root)
    wanted = {"count": count, "seed": seed, "format": FORMAT_VERSION}
    if (
        marker
        and all(marker.get(k) == v for k, v in wanted.items())
        and time.time() - marker.get("generated_at", 0) < MAX_AGE_SECONDS
    ):
        restore_fleet(root)
        return _info(root, marker, time.perf_counter() - started, reused=True)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    now = int(time.time()) // DAY * DAY
    workers = workers or min(os.cpu_count() or 1, 8)
    chunks = [range(start, min(start + 500, count + 1)) for start in range(1, count + 1, 500)]
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(workers) as pool:
            for future in [pool.submit(_build_products, root, c, count, seed, now) for c in chunks]:
                future.result()
    else:
        for chunk in chunks:
            _build_products(root, chunk, count, seed, now)
    platform = render_platform(random.Random(seed))
    _build_repo(root / "platform.git", [(now - 80 * DAY, "Teams and capabilities", platform)])
    marker = {**wanted, "generated_at": now}
    (root / MARKER).write_text(json.dumps(marker) + "\n")
    return _info(root, marker, time.perf_counter() - started, reused=False)


def _info(root: Path, marker: dict[str, int], seconds: float, *, reused: bool) -> FleetInfo:
    count, seed, at = marker["count"], marker["seed"], marker["generated_at"]
    return FleetInfo(root, count, seed, count + 1, count, len(TEAMS), len(CAPABILITIES), at, seconds, reused)


def _read_tip(repo: Path) -> tuple[str, bytes, str]:
    """The tip commit, its root tree (raw) and its descriptor text, through one ``git cat-file``."""
    out = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"],
        check=True,
        capture_output=True,
        input=b"HEAD\nHEAD^{tree}\nHEAD:catalog-info.yaml\n",
    ).stdout
    bodies = []
    for _ in range(3):
        header, _, out = out.partition(b"\n")
        sha, _, size = header.split(b" ")
        bodies.append((sha.decode(), out[: int(size)]))
        out = out[int(size) + 1 :]
    return bodies[0][0], bodies[1][1], bodies[2][1].decode()


def _bump_description(text: str) -> str:
    """The descriptor with ``(revision N)`` at the end of its description, N one higher."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("  description: "):
            base, _, rev = line.partition(" (revision ")
            lines[i] = f"{base} (revision {int(rev.rstrip(')') or 1) + 1})"
            break
    return "\n".join(lines)


def touch_fraction(root: Path, fraction: float, seed: int) -> list[str]:
    """Give ``fraction`` of the product repositories one new commit that edits their descriptor.

    Every touch is journalled so that ``restore_fleet`` can put the cached fleet back as generated.
    """
    names = sorted(p.name for p in root.glob("svc-*.git"))
    chosen = sorted(random.Random(seed).sample(names, max(1, round(len(names) * fraction))))
    journal_path = root / TOUCH_JOURNAL
    journal = json.loads(journal_path.read_text()) if journal_path.exists() else []
    now = int(time.time())
    for name in chosen:
        repo = root / name
        tip, tree_raw, descriptor = _read_tip(repo)
        store: dict[bytes, tuple[bytes, bytes]] = {}
        blob = _object(b"blob", _bump_description(descriptor).encode(), store)
        head, sep, rest = tree_raw.partition(b"100644 catalog-info.yaml\0")
        tree = _object(b"tree", head + sep + blob + rest[20:], store)
        commit = _commit(tree, bytes.fromhex(tip), "Release Bot", now, "Update description", store)
        stem = write_pack(repo / "objects", store)
        journal.append({"repo": name, "tip": tip, "pack": stem})
        journal_path.write_text(json.dumps(journal))
        (repo / "refs" / "heads" / "main").write_text(commit.hex() + "\n")
    return [name.removesuffix(".git") for name in chosen]


def restore_fleet(root: Path) -> int:
    """Undo every journalled touch, newest first; answer how many were undone."""
    journal_path = root / TOUCH_JOURNAL
    if not journal_path.exists():
        return 0
    journal: list[dict[str, str]] = json.loads(journal_path.read_text())
    for entry in reversed(journal):
        repo = root / entry["repo"]
        (repo / "refs" / "heads" / "main").write_text(entry["tip"] + "\n")
        for suffix in (".pack", ".idx"):
            (repo / "objects" / "pack" / (entry["pack"] + suffix)).unlink(missing_ok=True)
    journal_path.unlink()
    return len(journal)
