"""The descriptor files a github read fetches and the history check searches: those the patterns match,
then the files their Locations name, in the scan's order, each read once, within bounds."""

from __future__ import annotations

from catalog_sync.sources.base import TreeEntry
from catalog_sync.sources.githubtree import blob_sha
from catalog_sync.sources.locations import MAX_ROUNDS, descriptor_files, in_listing


def location(*targets: str) -> str:
    head = "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: here}\n"
    return head + f"spec:\n  targets: [{', '.join(targets)}]\n"


class Tree:
    """A commit's files in memory, counting what is read and listed."""

    def __init__(self, files: dict[str, str], modes: dict[str, int] | None = None) -> None:
        self.entries = {
            path: TreeEntry(path, blob_sha(text.encode()), (modes or {}).get(path, 0o100644), len(text))
            for path, text in sorted(files.items())
        }
        self.content = {blob_sha(text.encode()): text.encode() for text in files.values()}
        self.reads: list[str] = []
        self.listings = 0
        self._listed = in_listing(self.entries)

    def walk(self, max_file_bytes: int = 1 << 20) -> list[str]:
        first = [e for p, e in self.entries.items() if p.endswith("catalog-info.yaml")]
        return [e.path for e, _ in descriptor_files(first, self.read, self.listed, max_file_bytes)]

    def read(self, entry: TreeEntry) -> bytes | None:
        self.reads.append(entry.path)
        return self.content[entry.sha]

    def listed(self, files: set[str], globs: set[str]) -> list[TreeEntry]:
        self.listings += 1
        return list(self._listed(files, globs))


def test_files_come_in_the_scans_order_patterns_first_then_round_by_round() -> None:
    tree = Tree(
        {
            "catalog-info.yaml": location("./z.yaml", "'teams/*.yaml'"),
            "api/catalog-info.yaml": location("./next.yaml"),
            "api/next.yaml": "kind: Product\n",
            "teams/b.yaml": location("../catalog-info.yaml", "../deeper.yaml"),
            "teams/a.yaml": "kind: Team\n",
            "deeper.yaml": "kind: Team\n",
            "z.yaml": "kind: Product\n",
            "unnamed.yaml": "kind: Product\n",
        }
    )
    order = [
        "api/catalog-info.yaml",
        "catalog-info.yaml",
        "api/next.yaml",
        "z.yaml",
        "teams/a.yaml",
        "teams/b.yaml",
        "deeper.yaml",
    ]
    assert tree.walk() == order
    assert tree.reads == order  # each once
    assert tree.listings == 2  # one listing per round of new targets


def test_a_chain_of_locations_is_followed_for_a_bounded_number_of_rounds() -> None:
    chain = {"catalog-info.yaml": location("./f0.yaml")}
    chain |= {f"f{i}.yaml": location(f"./f{i + 1}.yaml") for i in range(MAX_ROUNDS + 5)}
    walked = Tree(chain).walk()
    assert len(walked) == MAX_ROUNDS + 1
    assert walked[-1] == f"f{MAX_ROUNDS - 1}.yaml"


def test_a_link_or_a_file_over_the_size_limit_is_neither_read_nor_followed() -> None:
    tree = Tree(
        {
            "catalog-info.yaml": location("./link.yaml", "./big.yaml", "./small.yaml"),
            "link.yaml": "secrets/key",
            "big.yaml": location("./hidden.yaml") + "#" * 500,
            "hidden.yaml": "kind: Product\n",
            "small.yaml": "kind: Product\n",
        },
        modes={"link.yaml": 0o120000},
    )
    assert tree.walk(max_file_bytes=200) == ["catalog-info.yaml", "small.yaml"]


def test_a_caller_that_stops_early_reads_and_lists_nothing_more() -> None:
    tree = Tree({"catalog-info.yaml": location("./more.yaml"), "more.yaml": "kind: Product\n"})
    first = [tree.entries["catalog-info.yaml"]]
    walk = descriptor_files(first, tree.read, tree.listed, 1 << 20)
    assert next(walk)[0].path == "catalog-info.yaml"
    assert (tree.reads, tree.listings) == (["catalog-info.yaml"], 0)
