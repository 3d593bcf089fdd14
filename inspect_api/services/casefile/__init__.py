"""Case files (卷宗) and the bureau's verifiable log (issue 22).

Owns: assembling a file from the recorded data (collect.py, subjects.py: what goes in; pdfs.py: the pages;
build.py: order, page numbers, manifest, Merkle root, package ZIP), the 评查 review checks (review.py) and
filing profiles as data (profiles.py), archiving and supplements (archive.py), the one rule that an archived
file never changes (guard.py), the bureau's append-only Merkle log with signed checkpoints and its re-check
(log.py, recheck.py, keys.py), and the stand-alone verifier shipped in every package (verifier.py, standard
library only).
"""
