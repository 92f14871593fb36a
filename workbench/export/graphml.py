"""The case's link graph as GraphML (networkx), for Gephi, yEd, Cytoscape and scripts.

Nodes are entities (id "e<entity id>") with the attributes label and value (what people
read), kind, key and attrs (the entity's attributes as JSON), exhibits and
evidence_sha256. Edges are links (a directed multigraph: two entities can be linked in
several ways) with type, label, confidence, exhibits and evidence_sha256. Characters XML
cannot carry (most control characters) are replaced by U+FFFD, so the file always parses.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import networkx as nx
from sqlite_utils import Database

from workbench.export.casedata import CaseData, exhibit_list, load_case
from workbench.export.files import atomic_path

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: Any) -> str:
    return _NOT_XML.sub("\ufffd", "" if value is None else str(value))


def _hashes(data: CaseData, evidence_ids: list[int]) -> str:
    return " ".join(
        sorted({data.evidence_by_id[e].sha256 for e in evidence_ids if e in data.evidence_by_id})
    )


def case_graph(data: CaseData) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph(
        name=xml_text(f"Case {data.case.id}: {data.case.title}"),
        case_id=data.case.id,
        generated_at=data.generated_at,
    )
    for entity in sorted(data.entities, key=lambda e: e.id):
        evidence = data.entity_evidence(entity.id)
        graph.add_node(
            f"e{entity.id}",
            label=xml_text(entity.value),
            value=xml_text(entity.value),
            kind=entity.kind,
            key=xml_text(entity.key),
            attrs=xml_text(json.dumps(entity.attrs, ensure_ascii=False, sort_keys=True)),
            exhibits=exhibit_list(data.exhibits(evidence)),
            evidence_sha256=_hashes(data, evidence),
        )
    for link in data.links:
        graph.add_edge(
            f"e{link.src_id}",
            f"e{link.dst_id}",
            key=f"l{link.id}",
            type=link.type,
            label=xml_text(link.label or link.type.replace("_", " ")),
            confidence=float(link.confidence),
            exhibits=exhibit_list(data.exhibits(link.evidence_ids)),
            evidence_sha256=_hashes(data, link.evidence_ids),
        )
    return graph


def export_graphml(db: Database, case_id: int, path: str | os.PathLike) -> dict[str, Any]:
    data = load_case(db, case_id, with_related=False)
    graph = case_graph(data)
    with atomic_path(path) as partial:
        nx.write_graphml(graph, partial, encoding="utf-8", prettyprint=True)
    return {"path": str(path), "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}
