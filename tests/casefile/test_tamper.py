"""Every change to a package is detected: random bytes, and a forger's edits of documents, order and 文号."""
from __future__ import annotations

import json
import random

import pytest

from inspect_api.services.casefile import archive as archive_service
from inspect_api.services.casefile.verifier import EXIT

from .conftest import VKEY, legal_actor
from .helpers import read_zip, reseal, verify_bytes, write_zip


@pytest.fixture()
def package(db, closed_case, legal, settings, storage):
    cf = archive_service.archive_file(db, settings, legal_actor(legal), "enforcement", closed_case.id)
    return storage.read_bytes(archive_service.package_key(cf))


def test_1000_random_single_byte_changes_are_all_detected(package, tmp_path):
    assert verify_bytes(package, VKEY, tmp_path) == 0
    rng = random.Random(20261208)
    codes = {}
    for i in range(1000):
        pos = rng.randrange(len(package))
        changed = bytearray(package)
        changed[pos] = (changed[pos] + rng.randrange(1, 256)) % 256
        code = verify_bytes(bytes(changed), VKEY, tmp_path, name="t.zip")
        assert code != 0, f"change at byte {pos} went unnoticed"
        codes[code] = codes.get(code, 0) + 1
    assert codes.get(EXIT["file_hash"], 0) > 500, codes  # most bytes are document contents


def _entries(members):
    return json.loads(members["manifest.json"])


def _folder(entry):
    return entry["files"][0]["path"].rsplit("/", 1)[0]


def _drop(members, entry):
    for f in entry["files"]:
        del members[f["path"]]


def test_a_forger_who_recomputes_the_root_is_caught_by_the_signed_log(package, tmp_path):
    """Deletion, duplication, swap, move of a document and an edited 文号 or date, each resealed."""
    def fresh():
        members = read_zip(package)
        return members, _entries(members)

    cases = {}
    members, m = fresh()  # deletion
    gone = m["entries"].pop(3)
    _drop(members, gone)
    for i, e in enumerate(m["entries"], 1):
        e["seq"] = i
    cases["delete"] = (members, m)
    members, m = fresh()  # duplication
    m["entries"].append(dict(m["entries"][0], seq=len(m["entries"]) + 1))
    cases["duplicate"] = (members, m)
    members, m = fresh()  # swap two documents
    m["entries"][0], m["entries"][1] = m["entries"][1], m["entries"][0]
    m["entries"][0]["seq"], m["entries"][1]["seq"] = 1, 2
    cases["swap"] = (members, m)
    members, m = fresh()  # move the last document to the front
    m["entries"].insert(0, m["entries"].pop())
    for i, e in enumerate(m["entries"], 1):
        e["seq"] = i
    cases["move"] = (members, m)
    for field, value in (("number", "（桃城）应急罚〔2026〕99号"), ("date", "2020-01-01")):
        members, m = fresh()
        entry = m["entries"][0]
        entry[field] = value
        data_path = f"{_folder(entry)}/data.json"
        data = json.loads(members[data_path])
        data["number" if field == "number" else "fields"] = value if field == "number" else data["fields"]
        members[data_path] = json.dumps(data, ensure_ascii=False).encode()
        cases[f"edit {field}"] = (members, m)
    for name, (members, m) in cases.items():
        naive = dict(members)
        naive["manifest.json"] = json.dumps(m, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        assert verify_bytes(write_zip(naive), VKEY, tmp_path) != 0, f"{name} (not resealed)"
        code = verify_bytes(write_zip(reseal(members, m)), VKEY, tmp_path)
        assert code in (EXIT["order"], EXIT["inclusion"]), (name, code)


def test_order_and_page_checks_name_their_failure(package, tmp_path):
    members = read_zip(package)
    m = _entries(members)
    m["entries"][1]["pages"] = [m["entries"][1]["pages"][0] + 1, m["entries"][1]["pages"][1] + 1]
    assert verify_bytes(write_zip(reseal(dict(members), m)), VKEY, tmp_path) == EXIT["order"]
    members = read_zip(package)
    del members["documents/0001-penalty_decision/data.json"]
    assert verify_bytes(write_zip(members), VKEY, tmp_path) == EXIT["file_missing"]
    members = read_zip(package)
    members["documents/0001-penalty_decision/extra.txt"] = b"slipped in"
    assert verify_bytes(write_zip(members), VKEY, tmp_path) == EXIT["unlisted_file"]


def test_a_wrong_key_or_a_rewritten_checkpoint_fails_the_signature(package, tmp_path):
    from inspect_api.services.casefile.keys import generate_key

    _, other = generate_key("test.inspect/131100/casefile-log")
    assert verify_bytes(package, other, tmp_path) == EXIT["signature"]
    members = read_zip(package)
    text = members["checkpoint.txt"].decode()
    lines = text.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    members["checkpoint.txt"] = "\n".join(lines).encode()
    assert verify_bytes(write_zip(members), VKEY, tmp_path) == EXIT["signature"]


def test_an_altered_audit_line_or_supplement_is_named(package, tmp_path):
    members = read_zip(package)
    proofs = json.loads(members["proofs.json"])
    proofs["audit"][0]["sha256"][0] = "00" * 32
    members["proofs.json"] = json.dumps(proofs).encode()
    assert verify_bytes(write_zip(members), VKEY, tmp_path) == EXIT["audit_proof"]
    members = read_zip(package)
    members["supplements/0001.json"] = b"{}"
    assert verify_bytes(write_zip(members), VKEY, tmp_path) == EXIT["supplement"]
