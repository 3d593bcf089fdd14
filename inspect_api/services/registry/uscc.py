"""统一社会信用代码 (GB 32100-2015) check character.

Alphabet of 31 characters (no I, O, S, V, Z); weights w_i = 3^(i-1) mod 31;
C18 = CHARSET[(31 - Σ value(c_i)·w_i mod 31) mod 31].
"""
from __future__ import annotations

import re

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]
_VALUE = {c: i for i, c in enumerate(CHARSET)}
_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")

ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def check_char(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str | None:
    """Return None when valid, else a reason (zh + en)."""
    if not isinstance(code, str):
        return "统一社会信用代码必须是字符串 (must be a string)"
    code = code.strip().upper()
    if len(code) != 18:
        return "统一社会信用代码应为18位 (must be 18 characters)"
    if not _SHAPE.match(code):
        return "统一社会信用代码含非法字符 (contains characters outside the GB 32100 alphabet; I O S V Z are not used)"
    expected = check_char(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误，应为 {expected} (check character should be {expected})"
    return None


def normalize_uscc(code: str) -> str:
    return code.strip().upper()


def _org_check(body8: str) -> str:
    def val(c):
        return int(c) if c.isdigit() else ord(c) - 55

    s = sum(val(c) * w for c, w in zip(body8, ORG_WEIGHTS))
    c9 = 11 - (s % 11)
    return "X" if c9 == 10 else ("0" if c9 == 11 else str(c9))


def make_uscc(region_code: str, seed: int) -> str:
    """A valid code for demo and test data: 91 + region + organisation code (with its own check) + check."""
    body = f"{seed % 100_000_000:08d}"
    first17 = "91" + region_code[:6] + body + _org_check(body)
    return first17 + check_char(first17)
