import pytest

from inspect_api.services.registry.uscc import check_char, make_uscc, validate_uscc

VERIFIED = ["91350100M000100Y43", "91350200776049653A", "91440101MA5CJQ4N59",
            "9135021359498494XQ", "91350213678251743X"]


@pytest.mark.parametrize("code", VERIFIED)
def test_published_codes_pass_the_gb32100_check(code):
    assert validate_uscc(code) is None


def test_worked_example_check_character_is_3():
    assert check_char("91350100M000100Y4") == "3"


def test_code_that_some_validators_whitelist_fails_with_expected_check_9():
    reason = validate_uscc("91350203M0001QAY9B")
    assert reason is not None and "9" in reason


@pytest.mark.parametrize("bad", ["91350100M000100Y4", "91350100M000100Y43X", "9135010OM000100Y43",
                                 "91350100S000100Y43", "91350100M000100Y44"])
def test_wrong_length_letters_or_check_character_are_refused(bad):
    assert validate_uscc(bad) is not None


def test_generated_demo_codes_are_valid_and_distinct():
    codes = {make_uscc("131102", n) for n in range(500)}
    assert len(codes) == 500
    assert all(validate_uscc(c) is None for c in codes)
