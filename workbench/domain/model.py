"""The records of a case store, as plain dataclasses.

The store reads rows into these and the services, CLI and UI pass them around. Times are
UTC ISO strings (see `times`); `as_dict` gives the JSON shape the CLI prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Case:
    id: int
    title: str
    status: str
    investigator: str | None
    summary: str | None
    created_at: str
    updated_at: str
    archived_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Entity:
    """One thing in the world, shared by every case that mentions it (one ROMS per store)."""

    id: int
    kind: str
    key: str  # normalised: what deduplicates
    value: str  # display form
    attrs: dict[str, Any]
    created_at: str
    updated_at: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Link:
    """A typed edge `src --type--> dst`, with the cases it belongs to and its evidence."""

    id: int
    src_id: int
    type: str
    dst_id: int
    label: str  # the user's words for a free-form (`related`) link, else ""
    confidence: float
    created_at: str
    case_ids: list[int] = field(default_factory=list)
    evidence_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Evidence:
    """Raw material exactly as received, with its SHA-256 and UTC capture time.

    `content` is loaded only when asked for; `imported` marks material whose capture time
    is claimed by whoever supplied it rather than observed by this workbench.
    """

    id: int
    kind: str
    sha256: str
    size: int
    media_type: str
    captured_at: str
    recorded_at: str
    source: str | None
    query: str | None
    filename: str | None
    imported: bool
    note: str | None = None
    content: bytes | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("content")
        return data


@dataclass
class Event:
    id: int
    case_id: int
    at: str
    kind: str
    text: str
    deadline: str | None
    outcome: str | None
    created_at: str
    entity_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
