"""Problem messages exist in Chinese and English and say the same things."""
from __future__ import annotations

import re
import string

import pytest

from content import MESSAGES, validate_path
from content.messages import TERMS, message

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_both_locales_use_the_same_placeholders(code):
    zh, en = MESSAGES[code]
    assert _fields(zh) == _fields(en)
    assert _CJK.search(zh), f"{code}: the Chinese message is not Chinese"
    assert not _CJK.search(en.replace("正确", "").replace("错误", "")), f"{code}: the English message has Chinese"


def test_terms_are_translated_both_ways():
    for key, (zh, en) in TERMS.items():
        assert (zh == en == "") or (zh and en), key


def test_english_problems_for_a_broken_package(package):
    package.replace("course.toml", "hours = 1.5", "hours = 0")
    package.replace("lessons/05-quiz.toml", 'answer = "A"', 'answer = "Q"')
    package.replace("course.toml", 'category = "安全"', 'category = "娱乐"')
    _, problems = validate_path(package.root, locale="en")
    by_code = {p.code: p for p in problems}
    assert by_code["hours-out-of-range"].message == "Hours 0 out of range: must be more than 0 and at most 100"
    assert by_code["quiz-answer-invalid"].message == \
        'Question 1: the answer must be one option letter such as "A"'
    assert by_code["category-unknown"].message.startswith("Unknown category '娱乐'; choose one of: 理论学习, 党史,")


def test_chinese_is_the_default_locale(package):
    package.replace("course.toml", "hours = 1.5", "hours = 0")
    _, problems = validate_path(package.root)
    assert problems[0].message == "学时 0 超出范围：应大于 0 且不超过 100"


def test_message_fills_terms_and_lists():
    from content.messages import Term
    assert message("field-type", "en", {"key": "hours", "expected": Term("number")}) == "Field 'hours' must be a number"
    assert message("category-unknown", "zh", {"value": "x", "allowed": ("a", "b")}) == "未知分类“x”；可选：a、b"


def test_format_spec_lists_exactly_the_problem_codes():
    from pathlib import Path
    spec = (Path(__file__).resolve().parents[2] / "content" / "FORMAT.md").read_text(encoding="utf-8")
    table = spec.split("## 11. Problem codes", 1)[1].split("## 12.", 1)[0]
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", table, flags=re.MULTILINE))
    assert documented == set(MESSAGES)
