"""Exports for other tools: JSON in the documented schema, STIX 2.1 that the stix2
library accepts, GraphML that networkx reads back, and CSV per entity kind."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
import stix2

from tests.core.test_export_scenario import HOSTILE_VALUE, build_scenario
from workbench.cli import main
from workbench.export.csv_export import export_csv, safe_cell
from workbench.export.graphml import export_graphml
from workbench.export.json_export import export_json
from workbench.export.stix import export_stix
from workbench.services import casework
from workbench.store.database import open_store

DOC = Path(__file__).resolve().parents[2] / "docs" / "export-json.md"


@pytest.fixture(scope="module")
def scenario_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats")
    db = open_store(folder / "store.sqlite")
    scenario = build_scenario(db)
    yield folder, db, scenario
    db.close()


def documented_keys() -> dict[str, list[str]]:
    """Section heading -> the keys its table documents, from docs/export-json.md."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^###? (?:`([a-z_]+)(?:\[\])?`|(Top level))", line)
        if heading:
            current = heading.group(1) or "top"
            sections[current] = []
        elif line.startswith("#"):
            current = None
        elif current and (row := re.match(r"^\| `([a-z_0-9]+)` \|", line)):
            sections[current].append(row.group(1))
    return sections


def test_the_json_export_has_exactly_the_documented_keys(scenario_store):
    folder, db, scenario = scenario_store
    export_json(db, scenario.soundsbox, folder / "case.json")
    document = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    documented = documented_keys()
    assert list(document) == documented["top"]
    assert list(document["case"]) == documented["case"]
    for section in ("entities", "links", "events", "snapshots", "related_cases"):
        assert document[section], f"the scenario has no {section}"
        for record in document[section]:
            assert list(record) == documented[section], section
    shared = [item for case in document["related_cases"] for item in case["shared"]]
    for item in shared:
        assert set(item) <= set(documented["shared"]) and {"via", "entity_id"} <= set(item)
    for record in document["evidence"]:
        content_key = "content_text" if "content_text" in record else "content_base64"
        assert list(record) == [
            k for k in documented["evidence"] if k not in ("content_text", "content_base64")
        ] + [content_key]
    assert document["schema"] == "workbench.case-export" and document["schema_version"] == 1


def test_the_json_export_holds_each_evidence_item_whole(scenario_store):
    folder, db, scenario = scenario_store
    export_json(db, scenario.soundsbox, folder / "case.json")
    document = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    kinds = set()
    for record in document["evidence"]:
        if "content_text" in record:
            raw = record["content_text"].encode("utf-8")
            kinds.add("text")
        else:
            raw = base64.b64decode(record["content_base64"])
            kinds.add("binary")
        assert hashlib.sha256(raw).hexdigest() == record["sha256"]
    assert kinds == {"text", "binary"}  # the DNS answer is binary
    assert [r["exhibit"] for r in document["evidence"]] == list(
        range(1, len(document["evidence"]) + 1)
    )
    assert any("Красная площадь" in r.get("content_text", "") for r in document["evidence"])


def test_the_json_export_shows_the_case_shares_roms_with_allofmp3(scenario_store):
    folder, db, scenario = scenario_store
    export_json(db, scenario.soundsbox, folder / "case.json")
    related = json.loads((folder / "case.json").read_text(encoding="utf-8"))["related_cases"]
    assert related[0]["case"]["id"] == scenario.allofmp3
    assert {"via": "entity", "kind": "collecting_society", "value": "ROMS"}.items() <= next(
        s for s in related[0]["shared"] if s.get("value") == "ROMS"
    ).items()


def test_the_stix_bundle_is_valid_stix_2_1(scenario_store):
    folder, db, scenario = scenario_store
    export_stix(db, scenario.soundsbox, folder / "case.stix.json")
    bundle = stix2.parse(
        (folder / "case.stix.json").read_text(encoding="utf-8"), allow_custom=False
    )
    by_type: dict[str, list] = {}
    for stix_object in bundle.objects:
        by_type.setdefault(stix_object.type, []).append(stix_object)
    assert {
        "identity",
        "domain-name",
        "ipv4-addr",
        "email-addr",
        "url",
        "relationship",
        "report",
    } <= set(by_type)
    assert "soundsbox.test" in {o.value for o in by_type["domain-name"]}
    names = {o.name for o in by_type["identity"]}
    assert {"Pedro Kresker", "Vienna Domains GmbH", "ROMS", HOSTILE_VALUE} <= names
    ids = {o.id for o in bundle.objects}
    for relationship in by_type["relationship"]:
        assert relationship.source_ref in ids and relationship.target_ref in ids
    registered = [r for r in by_type["relationship"] if r.relationship_type == "registered-to"]
    assert registered and registered[0].external_references[0].hashes["SHA-256"]
    assert set(by_type["report"][0].object_refs) == ids - {by_type["report"][0].id}


def test_stix_ids_are_the_same_in_every_export_of_the_case(scenario_store):
    folder, db, scenario = scenario_store
    export_stix(db, scenario.soundsbox, folder / "one.json")
    export_stix(db, scenario.soundsbox, folder / "two.json")

    def ids(name):
        objects = json.loads((folder / name).read_text(encoding="utf-8"))["objects"]
        return sorted(o["id"] for o in objects if o["type"] != "bundle")

    assert ids("one.json") == ids("two.json")


def test_an_autonomous_system_and_an_ipv6_address_map_to_their_stix_objects(tmp_path):
    db = open_store(tmp_path / "store.sqlite")
    case = casework.new_case(db, "Networks").id
    network = casework.add_entity(
        db, case, "network", "AS64500", {"asn": 64500, "name": "REDSQUARE-AS"}
    )
    address = casework.add_entity(db, case, "ip_address", "2001:db8::10")
    casework.add_link(db, case, address.id, "hosted_by", network.id)
    export_stix(db, case, tmp_path / "out.json")
    bundle = stix2.parse((tmp_path / "out.json").read_text(encoding="utf-8"), allow_custom=False)
    types = {o.type: o for o in bundle.objects}
    assert types["autonomous-system"].number == 64500
    assert types["ipv6-addr"].value == "2001:db8::10"
    assert types["relationship"].relationship_type == "hosted-by"
    db.close()


def test_the_graphml_file_reads_back_with_networkx(scenario_store):
    folder, db, scenario = scenario_store
    result = export_graphml(db, scenario.soundsbox, folder / "case.graphml")
    graph = nx.read_graphml(folder / "case.graphml")
    assert graph.number_of_nodes() == result["nodes"] and graph.number_of_edges() == result["edges"]
    values = {data["value"]: data for _, data in graph.nodes(data=True)}
    assert values["Pedro Kresker"]["kind"] == "person"
    assert values[HOSTILE_VALUE]["kind"] == "organisation"
    assert values["ROMS"]["label"] == "ROMS"
    kinds = {data["type"] for _, _, data in graph.edges(data=True)}
    assert {"registered_to", "registered_via", "claims_licence_from"} <= kinds


def test_csv_has_one_file_per_entity_kind_readable_with_unicode(scenario_store):
    folder, db, scenario = scenario_store
    export_csv(db, scenario.soundsbox, folder / "csv")
    files = {p.name for p in (folder / "csv").iterdir()}
    assert {
        "entities-person.csv",
        "entities-registrar.csv",
        "entities-licence.csv",
        "links.csv",
        "events.csv",
        "evidence.csv",
    } <= files
    with (folder / "csv" / "entities-person.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    kresker = next(r for r in rows if r["value"] == "Pedro Kresker")
    assert kresker["country"] == "LU" and kresker["exhibits"].startswith("E")
    with (folder / "csv" / "entities-phone.csv").open(encoding="utf-8-sig", newline="") as f:
        phones = {r["value"]: r for r in csv.DictReader(f)}
    assert phones["+352 26 48 01 23"]["line_type"] == "fax"  # no apostrophe on a number


def test_csv_cells_never_run_as_spreadsheet_formulas():
    assert safe_cell('=HYPERLINK("http://evil.test","x")') == '\'=HYPERLINK("http://evil.test","x")'
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-2+3+cmd|' /C calc'!A0") == "'-2+3+cmd|' /C calc'!A0"
    assert safe_cell("+352 26 48 01 23") == "+352 26 48 01 23"
    assert safe_cell("Vienna Domains GmbH") == "Vienna Domains GmbH"


def test_the_commands_write_each_format(scenario_store, capsys):
    folder, _, scenario = scenario_store
    store, case = str(folder / "store.sqlite"), str(scenario.soundsbox)
    out = folder / "cli"
    out.mkdir(exist_ok=True)
    assert main(["--store", store, "export", "--case", case, "--json", str(out / "c.json")]) == 0
    assert json.loads((out / "c.json").read_text(encoding="utf-8"))["case"]["id"] == 1
    capsys.readouterr()
    args = ["--store", store, "export", "--case", case, "--stix", str(out / "c.stix"), "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "stix"
    args = ["--store", store, "export", "--case", case, "--csv", str(out), "--graphml", "g"]
    assert main(args) == 2
    assert "exactly one" in capsys.readouterr().err


def test_only_the_pdf_export_uses_qt_and_never_its_widgets():
    package = Path(__file__).resolve().parents[2] / "workbench" / "export"
    using_qt = sorted(p.name for p in package.glob("*.py") if "PySide6" in p.read_text("utf-8"))
    assert using_qt == ["pdf.py"]
    assert "QtWidgets" not in (package / "pdf.py").read_text("utf-8")
    script = (
        "import sys; import workbench.export.bundle, workbench.export.json_export, "
        "workbench.export.csv_export, workbench.export.graphml, workbench.export.stix; "
        "print(sorted(m for m in sys.modules if m.startswith('PySide6')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
