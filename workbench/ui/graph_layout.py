"""Automatic layout of a case graph with networkx, fast enough for thousands of nodes.

networkx's `spring_layout` hands graphs of 500 nodes or more to a scipy solver; scipy is
not a dependency, so large graphs are laid out here in three steps that keep the
Fruchterman-Reingold solver on small inputs:
1. each connected component apart (a case often has islands: a storefront, a registrar);
2. in a large component, nodes of degree 1 (a domain's own address, an email) are folded
   into their neighbour and placed around it afterwards, and the core is laid out with
   networkx's dense solver on fewer iterations the larger it is;
3. components are packed in rows, largest first.
Nodes with a saved position keep it (drag to arrange, layout saved per case).

Runs off the main thread (numpy releases the GIL for its array work).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import networkx as nx
import numpy as np

SPACING = 110.0  # scene units between neighbours: room for an icon and a label
SMALL = 400  # components up to this size go to networkx's spring_layout as they are


def layout_graph(
    nodes: Iterable[int],
    edges: Iterable[tuple[int, int]],
    fixed: dict[int, tuple[float, float]] | None = None,
    seed: int = 7,
) -> dict[int, tuple[float, float]]:
    """Scene positions for `nodes`; those in `fixed` stay where they are."""
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from((a, b) for a, b in edges if a != b and a in graph and b in graph)
    fixed = {n: p for n, p in (fixed or {}).items() if n in graph}
    if fixed and len(fixed) == graph.number_of_nodes():
        return dict(fixed)
    if fixed:
        return _layout_around_fixed(graph, fixed, seed)
    components = sorted(nx.connected_components(graph), key=len, reverse=True)
    placed = [_layout_component(graph.subgraph(c), seed) for c in components]
    return _pack(placed)


def _layout_component(graph: nx.Graph, seed: int) -> dict[int, tuple[float, float]]:
    count = graph.number_of_nodes()
    if count == 1:
        return {next(iter(graph.nodes)): (0.0, 0.0)}
    if count == 2:
        a, b = graph.nodes
        return {a: (0.0, 0.0), b: (SPACING, 0.0)}
    if count <= SMALL:
        return _spring(graph, seed)
    # Fold the leaves: most nodes of a big case graph hang off one domain or network.
    leaves: dict[int, list[int]] = {}
    for node in graph.nodes:
        if graph.degree(node) == 1:
            (parent,) = graph.neighbors(node)
            if graph.degree(parent) > 1:
                leaves.setdefault(parent, []).append(node)
    folded = {leaf for group in leaves.values() for leaf in group}
    core = graph.subgraph([n for n in graph.nodes if n not in folded])
    positions = _dense_layout(core, seed)
    for parent, group in leaves.items():
        px, py = positions[parent]
        radius = SPACING * (0.6 + 0.08 * len(group))
        # Put the leaves on the side away from the component's centre.
        angle0 = math.atan2(py, px)
        for index, leaf in enumerate(group):
            angle = angle0 + (index - (len(group) - 1) / 2) * min(0.5, 2 * math.pi / len(group))
            positions[leaf] = (px + radius * math.cos(angle), py + radius * math.sin(angle))
    return positions


def _dense_layout(graph: nx.Graph, seed: int) -> dict[int, tuple[float, float]]:
    count = graph.number_of_nodes()
    if count <= SMALL:
        return _spring(graph, seed)
    from networkx.drawing.layout import _fruchterman_reingold

    nodes = list(graph.nodes)
    matrix = nx.to_numpy_array(graph, nodelist=nodes, dtype=np.float32)
    # Start from a spiral rather than noise: fewer iterations reach a readable picture.
    golden = math.pi * (3 - math.sqrt(5))
    start = np.array(
        [
            (
                math.sqrt(i / count) * math.cos(i * golden),
                math.sqrt(i / count) * math.sin(i * golden),
            )
            for i in range(count)
        ],
        dtype=np.float32,
    )
    iterations = max(12, int(50 * SMALL / count))
    raw = _fruchterman_reingold(
        matrix, pos=start, iterations=iterations, seed=np.random.RandomState(seed)
    )
    return _scale({node: raw[i] for i, node in enumerate(nodes)}, count)


def _spring(graph: nx.Graph, seed: int) -> dict[int, tuple[float, float]]:
    count = graph.number_of_nodes()
    # A larger optimal distance than networkx's 1/sqrt(n): nodes carry labels, and hubs
    # (a domain with its contacts) otherwise pile their neighbours on top of each other.
    raw = nx.spring_layout(graph, seed=seed, iterations=150, k=1.8 / math.sqrt(count))
    return _separate(_scale(raw, count))


def _separate(
    positions: dict[int, tuple[float, float]], minimum: float = SPACING * 0.75, rounds: int = 30
) -> dict[int, tuple[float, float]]:
    """Push apart nodes closer than `minimum` (labels must not overlap icons)."""
    nodes = list(positions)
    if len(nodes) < 2:
        return positions
    points = np.array([positions[n] for n in nodes], dtype=np.float64)
    for _ in range(rounds):
        delta = points[:, None, :] - points[None, :, :]
        distance = np.sqrt((delta**2).sum(-1))
        np.fill_diagonal(distance, minimum * 10)  # never "close" to itself
        close = distance < minimum
        if not close.any():
            break
        push = np.where(close, (minimum - distance) / np.maximum(distance, 1e-6) / 2, 0.0)
        points += (delta * push[:, :, None]).sum(1)
    return {n: (float(p[0]), float(p[1])) for n, p in zip(nodes, points, strict=True)}


def _scale(raw: dict, count: int) -> dict[int, tuple[float, float]]:
    """networkx lays out in [-1, 1]; spread to keep neighbours about SPACING apart."""
    size = SPACING * max(1.0, math.sqrt(count)) * 0.9
    return {node: (float(p[0]) * size, float(p[1]) * size) for node, p in raw.items()}


def _pack(components: list[dict[int, tuple[float, float]]]) -> dict[int, tuple[float, float]]:
    """Place components side by side in rows, each in its own box."""
    result: dict[int, tuple[float, float]] = {}
    if not components:
        return result
    boxes = []
    for positions in components:
        xs = [p[0] for p in positions.values()]
        ys = [p[1] for p in positions.values()]
        boxes.append((min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)))
    total_area = sum((w + SPACING) * (h + SPACING) for _, _, w, h in boxes)
    row_width = max(math.sqrt(total_area) * 1.3, boxes[0][2] + SPACING)
    x = y = row_height = 0.0
    for positions, (min_x, min_y, width, height) in zip(components, boxes, strict=True):
        if x > 0 and x + width > row_width:
            x = 0.0
            y += row_height + SPACING
            row_height = 0.0
        for node, (px, py) in positions.items():
            result[node] = (px - min_x + x, py - min_y + y)
        x += width + SPACING
        row_height = max(row_height, height)
    return result


def _layout_around_fixed(
    graph: nx.Graph, fixed: dict[int, tuple[float, float]], seed: int
) -> dict[int, tuple[float, float]]:
    """New nodes of a graph whose other nodes have saved places: each goes near the placed
    neighbours it has (in a ring around them), or below everything when it has none."""
    positions = dict(fixed)
    rng = np.random.default_rng(seed)
    pending = [n for n in graph.nodes if n not in positions]
    for _ in range(3):  # new nodes next to new nodes: a few passes settle chains
        still = []
        for node in pending:
            placed = [positions[m] for m in graph.neighbors(node) if m in positions]
            if not placed:
                still.append(node)
                continue
            cx = sum(p[0] for p in placed) / len(placed)
            cy = sum(p[1] for p in placed) / len(placed)
            angle = rng.uniform(0, 2 * math.pi)
            positions[node] = (cx + SPACING * math.cos(angle), cy + SPACING * math.sin(angle))
        pending = still
    if pending:
        bottom = max(p[1] for p in positions.values()) + 2 * SPACING
        left = min(p[0] for p in positions.values())
        rest = _pack(
            [
                _layout_component(graph.subgraph(c), seed)
                for c in nx.connected_components(graph.subgraph(pending))
            ]
        )
        for node, (px, py) in rest.items():
            positions[node] = (left + px, bottom + py)
    return positions


def place_around(
    centre: tuple[float, float], count: int, occupied_radius: float = SPACING
) -> list[tuple[float, float]]:
    """Positions for `count` nodes brought in around a node being expanded."""
    cx, cy = centre
    radius = max(occupied_radius * 1.5, SPACING * count / (2 * math.pi))
    return [
        (
            cx + radius * math.cos(2 * math.pi * i / max(1, count)),
            cy + radius * math.sin(2 * math.pi * i / max(1, count)),
        )
        for i in range(count)
    ]
