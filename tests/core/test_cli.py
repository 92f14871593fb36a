"""The command-line contract (issue 2, item 6), through the real `workbench` command in a
subprocess: with --json every command prints one JSON document, a creating command prints
the new record with its id, and what was entered is what comes back."""

import subprocess

from tests.conftest import cli_env, file_state, workbench_command

SOUNDSBOX_CLAIM = (
    "authorized by the license # 49/ZM-07 of the Russian Multimedia and Internet Society (ROMS)"
)
FEES = (
    "fees paid subject to the Law of the Russian Federation \u201cOn Copyright and Related "
    "Rights\u201d; material solely for personal use. Закон «Об авторском праве»"
)


def test_done_when_a_storefront_entered_on_the_command_line_comes_back_exactly(run_cli):
    case = run_cli("case", "new", "Soundsbox", json=True)
    assert case.code == 0, case
    assert case.data["title"] == "Soundsbox" and case.data["status"] == "open"
    case_id = case.data["id"]
    added = run_cli(
        "storefront",
        "add",
        "--case",
        str(case_id),
        "--name",
        "Soundsbox",
        "--url",
        "http://www.soundsbox.test/",
        "--licence-claim",
        SOUNDSBOX_CLAIM,
        "--price",
        "0.14:USD:track",
        "--price",
        "1.76:USD:album",
        "--note",
        FEES,
        json=True,
    )
    assert added.code == 0, added
    assert added.data["id"] == added.data["storefront"]["id"]
    shown = run_cli("case", "show", str(case_id), json=True)
    assert shown.code == 0, shown
    assert shown.data["case"] == case.data | {"updated_at": shown.data["case"]["updated_at"]}
    (storefront,) = [e for e in shown.data["entities"] if e["kind"] == "storefront"]
    assert storefront["id"] == added.data["id"]
    assert storefront["value"] == "Soundsbox"
    assert storefront["attrs"] == {
        "licence_claim": SOUNDSBOX_CLAIM,
        "licence_number": "49/ZM-07",
        "prices": [
            {"amount": "0.14", "currency": "USD", "unit": "track"},
            {"amount": "1.76", "currency": "USD", "unit": "album"},
        ],
        "urls": ["http://www.soundsbox.test/"],
        "note": FEES,
    }
    by_kind = {e["kind"]: e for e in shown.data["entities"]}
    assert by_kind["collecting_society"]["value"] == "ROMS"
    assert by_kind["licence"]["value"] == "49/ZM-07 (ROMS)"
    assert by_kind["domain"]["value"] == "soundsbox.test"
    names = {e["id"]: e["value"] for e in shown.data["entities"]}
    edges = {(names[lk["src_id"]], lk["type"], names[lk["dst_id"]]) for lk in shown.data["links"]}
    assert ("Soundsbox", "claims_licence_from", "ROMS") in edges
    assert ("49/ZM-07 (ROMS)", "licence_issued_by", "ROMS") in edges
    assert ("Soundsbox", "served_at", "soundsbox.test") in edges
    assert all(lk["case_ids"] == [case_id] for lk in shown.data["links"])


def test_every_command_prints_one_json_document_and_creating_ones_the_new_record(
    run_cli, tmp_path, store_path
):
    def ok(*args, **options):
        result = run_cli(*args, json=True, **options)
        assert result.code == 0, result
        return result.data

    case = ok("case", "new", "AllofMP3", "--investigator", "IFPI", "--summary", "Moscow store")
    cid = str(case["id"])
    assert (case["investigator"], case["summary"]) == ("IFPI", "Moscow store")
    assert ok("case", "status", cid, "referred")["status"] == "referred"
    assert ok("case", "rename", cid, "AllofMP3.com")["title"] == "AllofMP3.com"
    listed = ok("case", "list")
    assert [c["id"] for c in listed] == [case["id"]] and listed[0]["status"] == "referred"

    person = ok("entity", "add", "--case", cid, "person", "Vadim Mamotin", "--attr", "country=RU")
    assert (person["kind"], person["value"], person["attrs"]) == (
        "person",
        "Vadim Mamotin",
        {"country": "RU"},
    )
    org = ok("entity", "add", "--case", cid, "organisation", "Mediaservices")
    page = tmp_path / "page.html"
    page.write_bytes(b"<html><p>Director general: Vadim Mamotin</p></html>")
    from_file = ok("evidence", "add", "--case", cid, "--kind", "page_capture", str(page))
    assert from_file["filename"] == "page.html" and from_file["media_type"] == "text/html"
    assert from_file["size"] == page.stat().st_size and len(from_file["sha256"]) == 64
    pasted = ok("evidence", "add", "--case", cid, "--kind", "note", "--text", "Visa stopped")
    assert pasted["size"] == len(b"Visa stopped")
    piped = ok(
        "evidence",
        "add",
        "--case",
        cid,
        "--kind",
        "email",
        "-",
        "--captured-at",
        "2006-10-18T09:00:00+04:00",
        stdin=b"From: support@allofmp3.test\n\n\xd0\x9f\xd1\x80\xd0\xb8\n",
    )
    assert piped["captured_at"] == "2006-10-18T05:00:00.000000Z" and piped["imported"] is True
    shown_item = ok("evidence", "show", str(piped["id"]), "--content")
    assert shown_item["content_text"] == "From: support@allofmp3.test\n\nПри\n"

    link = ok(
        "link", "add", "--case", cid, str(person["id"]), "works_for", str(org["id"]),
        "--evidence", str(from_file["id"]),
    )  # fmt: skip
    assert (link["src_id"], link["type"], link["label"], link["dst_id"]) == (
        person["id"],
        "related",
        "works_for",
        org["id"],
    )
    assert link["evidence_ids"] == [from_file["id"]] and link["case_ids"] == [case["id"]]
    event = ok(
        "event", "add", "--case", cid, "notice_sent", "IFPI wrote to Visa",
        "--at", "2006-10-18", "--deadline", "2006-11-01T12:00:00Z", "--outcome", "pending",
        "--entity", str(org["id"]),
    )  # fmt: skip
    assert (event["at"], event["deadline"], event["outcome"], event["entity_ids"]) == (
        "2006-10-18T00:00:00.000000Z",
        "2006-11-01T12:00:00.000000Z",
        "pending",
        [org["id"]],
    )

    # Readers run side by side (as the desktop app and a script would) and write nothing.
    before = file_state(store_path)
    results = run_cli.many(
        ("entity", "show", str(person["id"])),
        ("search", "Mamotin"),
        ("search", "nothing-like-this"),
        ("related", "--entity", str(org["id"])),
        ("related", "--case", cid),
        ("verify",),
        ("integrity",),
        json=True,
    )
    assert all(r.code == 0 for r in results), "\n".join(map(str, results))
    assert file_state(store_path) == before
    detail, found, nothing, pivot, related, verified, integrity = (r.data for r in results)
    assert [lk["other"]["value"] for lk in detail["links_out"]] == ["Mediaservices"]
    assert [e["id"] for e in detail["evidence"]] == [from_file["id"]]
    assert {(r["type"], r["id"]) for r in found} >= {
        ("entity", person["id"]),
        ("evidence", from_file["id"]),
    }
    assert nothing == []
    assert [n["entity"]["id"] for n in pivot["neighbours"]] == [person["id"]]
    assert related == {"case_id": case["id"], "related": []}
    assert verified["ok"] is True
    assert integrity["ok"] is True and integrity["schema"][0] == "0001_initial"
    assert ok("case", "archive", cid)["archived_at"] is not None
    listed, everything = run_cli.many(("case", "list"), ("case", "list", "--all"), json=True)
    assert listed.data == [] and [c["id"] for c in everything.data] == [case["id"]]


def test_text_output_is_for_people_and_names_what_was_made(run_cli):
    made = run_cli("case", "new", "Soundsbox")
    assert made.code == 0 and made.stdout == "case 1 opened: Soundsbox\n", made
    listed = run_cli("case", "list")
    assert listed.stdout.splitlines()[0].split()[:3] == ["ID", "STATUS", "TITLE"], listed
    assert "Soundsbox" in listed.stdout
    # Text from a site under investigation must not drive the terminal.
    run_cli("entity", "add", "--case", "1", "organisation", "Evil\u202eCorp")
    shown = run_cli("case", "show", "1")
    assert "\u202e" not in shown.stdout and "Evil" in shown.stdout, shown


def test_the_store_can_be_named_by_option_anywhere_or_by_environment(run_cli, tmp_path):
    elsewhere = tmp_path / "elsewhere.sqlite"
    after = run_cli("case", "new", "After", "--store", str(elsewhere), store=None, json=True)
    assert after.code == 0 and elsewhere.exists(), after
    environment = {"WORKBENCH_STORE": str(elsewhere)}
    by_env = run_cli("case", "list", store=None, json=True, env=environment)
    assert [c["title"] for c in by_env.data] == ["After"]
    # --store wins over the environment.
    assert run_cli("case", "list", json=True, env=environment).data == []


def test_output_that_cannot_be_written_is_not_a_traceback(run_cli, store_path, tmp_path):
    run_cli("case", "new", "Роспатент")
    ascii_only = {"PYTHONIOENCODING": "ascii"}  # a terminal or pipe that cannot show Cyrillic
    as_json = run_cli("case", "list", json=True, env=ascii_only)
    assert as_json.code == 0 and as_json.data[0]["title"] == "Роспатент", as_json
    as_text = run_cli("case", "list", env=ascii_only)
    assert as_text.code == 0 and "\\u0420" in as_text.stdout, as_text
    assert "Traceback" not in as_json.stderr + as_text.stderr
    # A reader that goes away (`workbench case list --json | head -1`) is not an error to report.
    process = subprocess.Popen(
        workbench_command(store_path, ("case", "list", "--json")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(tmp_path),
    )
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


def test_help_and_version_work_without_creating_a_store(run_cli, store_path):
    for result in run_cli.many(("storefront", "add", "--help"), ("--version",)):
        assert result.code == 0 and result.stdout, result
    assert not store_path.exists()
