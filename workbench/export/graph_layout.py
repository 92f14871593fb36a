"""Where each entity sits in the case file's link graph picture.

A force-directed layout (networkx `spring_layout`) with a fixed seed over nodes added in id
order, so the same case always draws the same way. A picture of hundreds of nodes is
unreadable on a page, so a large case is drawn with its most connected entities only (the
storefronts always among them); the tables list everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from workbench.export.casedata import CaseData

MAX_NODES = 120
SEED = 20061  # any fixed number: the point is that it never changes
# Below this many links, the relationship is written on each edge.
MAX_EDGE_LABELS = 40


@dataclass(frozen=True)
class PlacedNode:
    entity_id: int
    kind: str
    label: str
    x: float  # 0..1, left to right
    y: float  # 0..1, top to bottom


@dataclass(frozen=True)
class PlacedEdge:
    src: int
    dst: int
    label: str


@dataclass(frozen=True)
class GraphPicture:
    nodes: list[PlacedNode]
    edges: list[PlacedEdge]
    total_nodes: int
    total_edges: int
    edge_labels: bool

    @property
    def truncated(self) -> bool:
        return len(self.nodes) < self.total_nodes


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def layout_case(data: CaseData, max_nodes: int = MAX_NODES) -> GraphPicture:
    graph = nx.Graph()
    entity_ids = sorted(data.entity_by_id)
    graph.add_nodes_from(entity_ids)
    for link in data.links:
        if link.src_id in data.entity_by_id and link.dst_id in data.entity_by_id:
            graph.add_edge(link.src_id, link.dst_id)
    chosen = entity_ids
    if len(entity_ids) > max_nodes:
        storefronts = [i for i in entity_ids if data.entity_by_id[i].kind == "storefront"]
        by_degree = sorted(entity_ids, key=lambda i: (-graph.degree(i), i))
        chosen = list(dict.fromkeys(storefronts[:max_nodes] + by_degree))[:max_nodes]
        chosen.sort()
        graph = graph.subgraph(chosen).copy()
    # Isolated entities would drift to the rim; the layout keeps them in the frame anyway.
    positions = nx.spring_layout(graph, seed=SEED, iterations=80) if len(graph) > 1 else {}
    if len(graph) == 1:
        positions = {chosen[0]: (0.0, 0.0)}
    xs = [float(p[0]) for p in positions.values()] or [0.0]
    ys = [float(p[1]) for p in positions.values()] or [0.0]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    nodes = [
        PlacedNode(
            entity_id,
            data.entity_by_id[entity_id].kind,
            _short(data.entity_by_id[entity_id].value),
            (float(positions[entity_id][0]) - min(xs)) / span_x if len(graph) > 1 else 0.5,
            (max(ys) - float(positions[entity_id][1])) / span_y if len(graph) > 1 else 0.5,
        )
        for entity_id in chosen
    ]
    kept = set(chosen)
    # Links between the same two entities are drawn as one line naming each relationship.
    labels: dict[tuple[int, int], list[str]] = {}
    for link in data.links:
        if link.src_id in kept and link.dst_id in kept:
            label = link.label or link.type.replace("_", " ")
            names = labels.setdefault((link.src_id, link.dst_id), [])
            if label not in names:
                names.append(label)
    edges = [PlacedEdge(src, dst, ", ".join(names)) for (src, dst), names in labels.items()]
    return GraphPicture(
        nodes=nodes,
        edges=edges,
        total_nodes=len(data.entity_by_id),
        total_edges=len(data.links),
        edge_labels=len(edges) <= MAX_EDGE_LABELS,
    )
