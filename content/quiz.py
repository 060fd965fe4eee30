"""Quiz questions: reading them from a quiz lesson, and grading a member's answers."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from content.fields import INVALID, TableReader
from content.messages import Term
from content.model import QUESTION_KINDS, TRUEFALSE_OPTIONS, QuestionSpec

MAX_QUESTIONS = 50
MIN_OPTIONS, MAX_OPTIONS = 2, 8
LETTERS = "ABCDEFGH"
QUESTION_KEYS = ("type", "prompt", "options", "answer", "explanation")


def read_questions(quiz: TableReader) -> tuple[QuestionSpec, ...] | Any:
    """The [[questions]] of a quiz lesson; INVALID (after reporting) when any is wrong."""
    raw = quiz.data.get("questions")
    if raw is None:
        quiz.report(None, "quiz-no-questions")
        return INVALID
    if not isinstance(raw, list) or not all(isinstance(q, dict) for q in raw):
        quiz.report("questions", "field-type", key="questions", expected=Term("table-list"))
        return INVALID
    if not raw:
        quiz.report("questions", "quiz-no-questions")
        return INVALID
    if len(raw) > MAX_QUESTIONS:
        quiz.report("questions", "quiz-too-many-questions", count=len(raw))
    questions = []
    for index, data in enumerate(raw):
        reader = TableReader(data, quiz.lines, ("questions", index), quiz.file, quiz.rep)
        questions.append(_read_question(reader, index + 1))
    if INVALID in questions or len(raw) > MAX_QUESTIONS:
        return INVALID
    return tuple(questions)


def _read_question(q: TableReader, n: int) -> QuestionSpec | Any:
    q.unknown_keys(QUESTION_KEYS)
    kind = q.string("type", max_len=20)
    prompt = q.string("prompt", max_len=1000)
    explanation = q.string("explanation", max_len=2000)
    if kind is not INVALID and kind not in QUESTION_KINDS:
        q.report("type", "quiz-type-unknown", n=n, value=kind)
        kind = INVALID
    if kind is INVALID:
        return INVALID
    if kind == "truefalse":
        options: Any = TRUEFALSE_OPTIONS
        if "options" in q.data:
            q.report("options", "quiz-truefalse-options", n=n)
            options = INVALID
    else:
        options = _read_options(q, n)
    answer = _read_answer(q, n, kind, options)
    if INVALID in (prompt, explanation, options, answer):
        return INVALID
    return QuestionSpec(kind, prompt, tuple(options), answer, explanation)


def _read_options(q: TableReader, n: int) -> tuple[str, ...] | Any:
    options = q.string_list("options", required=True, max_items=100, max_len=200)
    if options is INVALID:
        return INVALID
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        q.report("options", "quiz-options-count", n=n, count=len(options))
        return INVALID
    seen = set()
    for option in options:
        if option in seen:
            q.rep.add(q.file, q.line("options"), "quiz-option-duplicate", n=n, value=option)
            return INVALID
        seen.add(option)
    return options


def _read_answer(q: TableReader, n: int, kind: str, options: Any) -> tuple[int, ...] | Any:
    if "answer" not in q.data:
        q.report(None, "field-missing", key="answer")
        return INVALID
    raw = q.data["answer"]
    if kind == "truefalse":
        if not isinstance(raw, bool):
            q.report("answer", "quiz-answer-invalid", n=n, form=Term("answer-truefalse"))
            return INVALID
        return (0,) if raw else (1,)
    if kind == "single":
        letters = [raw] if isinstance(raw, str) else None
    else:
        letters = raw if isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw) else None
        if letters is not None and len({x.upper() for x in letters}) != len(letters):
            letters = None
    if letters is None or any(len(x) != 1 or x.upper() not in LETTERS for x in letters):
        q.report("answer", "quiz-answer-invalid", n=n, form=Term(f"answer-{kind}"))
        return INVALID
    if options is INVALID:
        return INVALID
    indices = []
    for letter in letters:
        index = LETTERS.index(letter.upper())
        if index >= len(options):
            q.report("answer", "quiz-answer-out-of-range", n=n, value=letter, last=LETTERS[len(options) - 1])
            return INVALID
        indices.append(index)
    return tuple(sorted(indices))


def grade(questions: Sequence[QuestionSpec], answers: Sequence[Sequence[int]]) -> tuple[int, tuple[bool, ...]]:
    """Score (whole percent, rounded half up) and per-question correctness.

    `answers[i]` is the list of option indices chosen for question i; a question is right only
    when the chosen set equals the answer set exactly (no partial credit for multiple choice).
    Raises ValueError when the number of answers differs from the number of questions."""
    if len(answers) != len(questions):
        raise ValueError(f"{len(answers)} answers for {len(questions)} questions")
    correct = tuple(set(chosen) == set(q.answer) for q, chosen in zip(questions, answers, strict=True))
    if not questions:
        return 0, ()
    right = sum(correct)
    total = len(questions)
    return (200 * right + total) // (2 * total), correct
