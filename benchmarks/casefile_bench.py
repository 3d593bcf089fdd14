"""Case files (issue 22): offline verification of a large package, proof sizes of a 1,000,000-entry log,
and archiving a 500-document file through the service.

    python benchmarks/casefile_bench.py [--documents 500] [--megabytes 200] [--log-entries 1000000]
                                        [--archive-photos 495] [--skip-archive]

1. verify: a package of DOCUMENTS entries holding about MEGABYTES of files (random bytes: the verifier
   hashes, it does not parse PDFs), its root in a signed checkpoint of a small log, verified by the shipped
   verify.py in a fresh ``python3 -I`` (under ``unshare -n`` when permitted). Baseline in the same run:
   reading and hashing the same bytes with SM3 and SHA-256 in one pass (the floor any verifier pays).
   Also the longest inclusion proof of one entry in that file.
2. log: the Merkle tree of LOG_ENTRIES leaves built in memory (SHA-256), the longest inclusion proof over
   1,000 random leaves and the consistency proofs between 1,000 random honest pairs (all verified).
   Baseline: hashing the leaves alone.
3. archive: a closed case with ARCHIVE_PHOTOS photo evidence pages (plus its ~10 documents) archived by a
   legal officer on a fresh SQLite database: gather, render, stamp, bind, log, sign, store the package.
Prints one line per figure and a JSON summary.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from inspect_api.services.casefile import verifier as v  # noqa: E402


def _file_record(path, data):
    return {"path": path, "size": len(data), "sm3": v.sm3(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest()}


def build_big_package(out_path: str, documents: int, megabytes: int, signer) -> dict:
    """A package shaped exactly as the service writes one, with random document bytes."""
    import rfc8785

    from inspect_api.services.casefile.log import checkpoint_body

    rng = random.Random(22)
    per = megabytes * 1024 * 1024 // documents
    members, entries, page = {}, [], 1
    for seq in range(1, documents + 1):
        folder = f"documents/{seq:04d}-photo_evidence"
        own = {f"{folder}/document.pdf": rng.randbytes(per // 4), f"{folder}/original.jpg": rng.randbytes(per - per // 4),
               f"{folder}/data.json": rfc8785.dumps({"seq": seq})}
        members.update(own)
        entries.append({"seq": seq, "kind": "photo_evidence", "title": f"照片证据 {seq}", "number": None,
                        "responsible": "衡水市桃城区应急管理局", "date": "2026-12-08", "note": None,
                        "pages": [page, page], "files": [_file_record(p, b) for p, b in sorted(own.items())]})
        page += 1
    verifier_src = open(v.__file__, "rb").read()
    members["verify.py"] = verifier_src
    members["front/casefile.pdf"] = rng.randbytes(1024)
    manifest = {"format": v.FORMAT, "casefile": {"kind": "enforcement", "subject_id": "bench", "bureau_code": "131102"},
                "cover": {"archive_no": "（桃城）应急档〔2026〕1号", "documents": documents, "pages": page - 1},
                "entry_count": documents, "verifier": _file_record("verify.py", verifier_src),
                "front": {"files": [_file_record("front/casefile.pdf", members["front/casefile.pdf"])]},
                "entries": entries}
    roots = {alg: v.merkle_root(v.entry_leaves(manifest, alg), alg).hex() for alg in ("sm3", "sha256")}
    manifest["root"] = roots
    members["manifest.json"] = rfc8785.dumps(manifest)
    # a small log: 40 other leaves, then the file's root
    leaves_data = [f"other {i}".encode() for i in range(40)] + [v.file_leaf(manifest, roots)]
    tree = {alg: [v.leaf_hash(d, alg) for d in leaves_data] for alg in ("sha256", "sm3")}
    size = len(leaves_data)
    root = {alg: v.merkle_root(tree[alg], alg) for alg in tree}
    members["checkpoint.txt"] = signer.sign_note(checkpoint_body(signer.name, size, root)).encode()
    proof = {"index": size - 1, "tree_size": size,
             **{alg: [h.hex() for h in v.inclusion_path(size - 1, tree[alg], alg)] for alg in tree}}
    members["proofs.json"] = rfc8785.dumps({"casefile": proof, "audit": [], "supplements": []})
    with open(out_path, "wb") as fh:
        v.write_canonical_zip(fh, list(members.items()))
    leaves = v.entry_leaves(manifest, "sha256")
    return {"bytes": os.path.getsize(out_path), "longest_entry_proof": max(
        len(v.inclusion_path(i, leaves)) for i in range(0, len(leaves), max(1, len(leaves) // 50)))}


def bench_verify(args, signer, report):
    work = tempfile.mkdtemp(prefix="casefile_bench_")
    try:
        pkg = os.path.join(work, "package.zip")
        info = build_big_package(pkg, args.documents, args.megabytes, signer)
        shutil.copy(v.__file__, os.path.join(work, "verify.py"))
        t = time.perf_counter()
        with open(pkg, "rb") as fh:
            a, b = v.sm3(), hashlib.sha256()
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                a.update(chunk)
                b.update(chunk)
        baseline = time.perf_counter() - t
        cmd = [sys.executable, "-I", "verify.py", "package.zip", "--key", signer.vkey]
        offline = shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"]).returncode == 0
        if offline:
            cmd = ["unshare", "-n"] + cmd
        t = time.perf_counter()
        result = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
        took = time.perf_counter() - t
        assert result.returncode == 0, result.stderr
        report.update(verify_seconds=round(took, 2), verify_baseline_hash_seconds=round(baseline, 2),
                      package_mb=round(info["bytes"] / 2 ** 20, 1), documents=args.documents,
                      network="off (unshare -n)" if offline else "on (unshare not permitted)",
                      longest_entry_proof=info["longest_entry_proof"])
        print(f"verify: {args.documents} documents, {report['package_mb']} MB: {took:.2f} s "
              f"(baseline SM3+SHA-256 of the bytes: {baseline:.2f} s; network {report['network']}); "
              f"one entry's proof: {info['longest_entry_proof']} hashes")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench_log(args, report):
    n = args.log_entries
    t = time.perf_counter()
    leaves = [hashlib.sha256(b"\x00" + i.to_bytes(8, "big")).digest() for i in range(n)]
    baseline = time.perf_counter() - t
    t = time.perf_counter()
    levels = [[{"sha256": h} for h in leaves]]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([{"sha256": v.node_hash(below[i]["sha256"], below[i + 1]["sha256"])}
                       for i in range(0, len(below) - 1, 2)])
    from inspect_api.services.casefile.recheck import _MemoryReader

    reader = _MemoryReader(levels)
    root = reader.subtree(0, n, "sha256")
    build = time.perf_counter() - t
    rng = random.Random(1)
    longest = 0
    t = time.perf_counter()
    for _ in range(1000):
        i = rng.randrange(n)
        path = reader.path(i, 0, n, "sha256")
        assert v.verify_inclusion(i, n, leaves[i], path, root)
        longest = max(longest, len(path))
    inclusion = time.perf_counter() - t
    longest_c = 0
    t = time.perf_counter()
    for _ in range(1000):
        a, b = sorted(rng.sample(range(1, n + 1), 2))
        proof = reader.subproof(a, 0, b, True, "sha256")
        assert v.verify_consistency(a, b, reader.subtree(0, a, "sha256"), reader.subtree(0, b, "sha256"), proof)
        longest_c = max(longest_c, len(proof))
    consistency = time.perf_counter() - t
    report.update(log_entries=n, log_longest_inclusion=longest, log_longest_consistency=longest_c,
                  log_build_seconds=round(build, 2), log_leaf_hash_baseline_seconds=round(baseline, 2),
                  log_1000_inclusion_seconds=round(inclusion, 2), log_1000_consistency_seconds=round(consistency, 2))
    print(f"log: {n} entries, tree built in {build:.1f} s (leaf hashing alone {baseline:.1f} s); "
          f"longest of 1,000 inclusion proofs {longest} hashes ({inclusion:.2f} s with verification); "
          f"1,000 honest consistency pairs verified, longest {longest_c} hashes ({consistency:.2f} s)")


def bench_archive(args, signer, report):
    from inspect_api import create_app
    from inspect_api.cli.demo_casefile import build_closed_case
    from inspect_api.extensions import db
    from inspect_api.services.access.actor import Actor
    from inspect_api.services.casefile import archive as archive_service
    from sqlalchemy import text

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    from tests import factories

    work = tempfile.mkdtemp(prefix="casefile_archive_bench_")
    key = os.path.join(work, "key")
    with open(key, "w") as fh:
        fh.write(signer_line(signer))
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{work}/db.sqlite3", "UPLOAD_ROOT": f"{work}/up",
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1,
                      "SECRET_KEY": "bench", "CASEFILE_SIGNING_KEY": key})
    try:
        with app.app_context():
            db.create_all()
            db.session.execute(text("INSERT INTO sync_state (id, seq) VALUES (1, 0)"))
            world = factories.build_world(db.session)
            legal = factories.user(db.session, "legal1", "legal", region="131102", certificate_no="B1")
            storage = app.extensions["inspect_storage"]
            case = build_closed_case(db.session, world["inspector1"], world["inspector2"], world.ent1,
                                     world["enterprise1"], storage=storage, photos=args.archive_photos)
            db.session.commit()
            settings = archive_service.settings_from(app.config, app.instance_path, storage)
            t = time.perf_counter()
            cf = archive_service.archive_file(db.session, settings, Actor(legal), "enforcement", case.id)
            db.session.commit()
            took = time.perf_counter() - t
            report.update(archive_documents=cf.entry_count, archive_pages=cf.page_count,
                          archive_seconds=round(took, 1))
            print(f"archive: {cf.entry_count} documents, {cf.page_count} pages archived and packaged in {took:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def signer_line(signer) -> str:
    import base64

    encoded = base64.b64encode(b"\x01" + signer.private.private_bytes_raw()).decode()
    return f"PRIVATE+KEY+{signer.name}+{v.key_id(signer.name, signer.public).hex()}+{encoded}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--log-entries", type=int, default=1_000_000)
    parser.add_argument("--archive-photos", type=int, default=495)
    parser.add_argument("--skip-archive", action="store_true")
    args = parser.parse_args()
    from inspect_api.services.casefile.keys import generate_key, parse_private

    signer = parse_private(generate_key("bench.inspect/131102/casefile-log")[0])
    report = {}
    bench_verify(args, signer, report)
    bench_log(args, report)
    if not args.skip_archive:
        bench_archive(args, signer, report)
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
