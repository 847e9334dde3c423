"""The dependencies between teams, drawn as an SVG on the server: teams on a circle, one arrow per
pair of teams from the team whose products depend to the team whose products are depended on, as
thick as the number of dependencies and labelled with it.

A circle keeps every label readable and no arrow hidden behind a team, whatever the number of teams,
with no layout library and no script; the most loaded teams come first, so they sit at the top. The
same edges are listed in a table beside the drawing, for screen readers and for exact numbers.
Beyond ``MAX_TEAMS`` teams the drawing keeps the most loaded ones and says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

SIZE = 560
RADIUS = 190
NODE_RADIUS = 9
MAX_TEAMS = 24
MAX_LABEL = 22


@dataclass(frozen=True)
class Node:
    """One team on the circle, and where its label goes."""

    ref: str
    label: str
    x: float
    y: float
    label_x: float
    label_y: float
    anchor: str
    load: int


@dataclass(frozen=True)
class Edge:
    """One arrow: from the border of one team's dot to the border of the other's."""

    source: str
    target: str
    count: int
    x1: float
    y1: float
    x2: float
    y2: float
    label_x: float
    label_y: float
    width: float


@dataclass(frozen=True)
class Graph:
    """What the template draws, and a sentence saying what it shows."""

    size: int
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    left_out: int
    summary: str


def dependency_graph(edges: Sequence[dict[str, Any]], title: Callable[[str], str]) -> Graph | None:
    """The drawing of ``edges`` (``{from, to, dependencies}``); None when no team depends on another."""
    load: dict[str, int] = {}
    for edge in edges:
        for end in (edge["from"], edge["to"]):
            load[end] = load.get(end, 0) + int(edge["dependencies"])
    if not load:
        return None
    teams = sorted(load, key=lambda team: (-load[team], team))
    shown, left_out = teams[:MAX_TEAMS], max(0, len(teams) - MAX_TEAMS)
    centre = SIZE / 2
    nodes: dict[str, Node] = {}
    for index, team in enumerate(shown):
        angle = -math.pi / 2 + 2 * math.pi * index / len(shown)
        x, y = centre + RADIUS * math.cos(angle), centre + RADIUS * math.sin(angle)
        out = RADIUS + NODE_RADIUS + 8
        label = title(team)
        label = label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"
        cos = math.cos(angle)
        anchor = "middle" if abs(cos) < 0.3 else ("start" if cos > 0 else "end")
        nodes[team] = Node(
            team,
            label,
            round(x, 1),
            round(y, 1),
            round(centre + out * cos, 1),
            round(centre + out * math.sin(angle) + 4, 1),
            anchor,
            load[team],
        )
    heaviest = max(int(edge["dependencies"]) for edge in edges)
    drawn = [_edge(edge, nodes, heaviest) for edge in edges if edge["from"] in nodes and edge["to"] in nodes]
    summary = (
        f"{len(shown)} teams with dependencies on each other's products, {len(drawn)} directed links; "
        f"the most loaded team is {nodes[shown[0]].label} ({load[shown[0]]} dependencies)"
    )
    return Graph(SIZE, tuple(nodes.values()), tuple(drawn), left_out, summary)


def _edge(edge: dict[str, Any], nodes: dict[str, Node], heaviest: int) -> Edge:
    start, end = nodes[edge["from"]], nodes[edge["to"]]
    dx, dy = end.x - start.x, end.y - start.y
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    # Two teams depending on each other get two arrows side by side instead of one on the other.
    nx, ny = -uy * 4, ux * 4
    gap = NODE_RADIUS + 3
    count = int(edge["dependencies"])
    return Edge(
        source=start.ref,
        target=end.ref,
        count=count,
        x1=round(start.x + ux * gap + nx, 1),
        y1=round(start.y + uy * gap + ny, 1),
        x2=round(end.x - ux * (gap + 4) + nx, 1),
        y2=round(end.y - uy * (gap + 4) + ny, 1),
        label_x=round((start.x + end.x) / 2 + nx * 2.5, 1),
        label_y=round((start.y + end.y) / 2 + ny * 2.5, 1),
        width=round(1.5 + 3.5 * count / heaviest, 1),
    )
