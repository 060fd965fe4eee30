"""Reading a good package into plain data, and what the values mean."""
from __future__ import annotations

import dataclasses

import pytest

from content import (
    CoursePackage,
    LessonSpec,
    PackageInvalid,
    QuestionSpec,
    grade,
    load_package,
    open_package,
    validate_path,
)


def test_good_package_parses_into_frozen_plain_data(package):
    pkg = load_package(package.root)
    assert isinstance(pkg, CoursePackage)
    assert (pkg.format, pkg.id, pkg.version) == (1, "road-safety", "1.0.0")
    assert pkg.title == "道路交通安全"
    assert pkg.category == "安全"
    assert pkg.hours == 1.5 and isinstance(pkg.hours, float)
    assert pkg.audience == ("外卖骑手", "快递员")
    assert pkg.tags == ("交通", "安全")
    assert pkg.cover == "media/cover.png"
    assert pkg.prerequisites == ()
    assert pkg.root == package.root
    assert pkg.tempdir is None
    assert [lesson.slug for lesson in pkg.lessons] == ["01-intro", "02-talk", "03-audio", "04-handout", "05-quiz"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        pkg.title = "x"  # type: ignore[misc]


def test_course_prerequisites_are_read_in_order_without_repeats(package):
    package.replace("course.toml", "hours = 1.5",
                    'hours = 1.5\nprerequisites = ["traffic-law", "helmet-basics", "traffic-law"]')
    assert load_package(package.root).prerequisites == ("traffic-law", "helmet-basics")


@pytest.mark.parametrize(("value", "code"), [
    ('"traffic-law"', "field-type"),
    ("[1, 2]", "field-type"),
    ("[" + ", ".join(f'"course-{i}"' for i in range(11)) + "]", "field-too-many"),
    ('["Traffic Law"]', "prerequisite-invalid"),
    ('["road-safety"]', "prerequisite-self"),
])
def test_bad_course_prerequisites_are_refused(package, value, code):
    package.replace("course.toml", "hours = 1.5", f"hours = 1.5\nprerequisites = {value}")
    _pkg, problems = validate_path(package.root, "en")
    assert [p.code for p in problems] == [code]
    assert problems[0].file == "course.toml" and problems[0].line == 8


def test_lesson_fields(package):
    pkg = load_package(package.root)
    intro, talk, audio, handout, quiz = pkg.lessons
    assert isinstance(intro, LessonSpec)
    assert (intro.kind, intro.duration_s, intro.min_dwell_s, intro.media) == ("text", 300, 120, None)
    assert intro.body_markdown.startswith("## 头盔")
    assert intro.source == "lessons/01-intro.md"
    assert (talk.kind, talk.duration_s, talk.min_dwell_s, talk.media) == ("video", 90, 45, "media/talk.mp4")
    assert talk.requires == ("01-intro",)
    # min_dwell defaults to half the duration
    assert (audio.kind, audio.duration_s, audio.min_dwell_s, audio.optional) == ("audio", 120, 60, True)
    assert handout.media == "media/handout.pdf" and handout.pass_score is None and handout.questions == ()
    assert (quiz.kind, quiz.pass_score, quiz.duration_s, quiz.min_dwell_s) == ("quiz", 80, 180, 60)
    assert quiz.source == "lessons/05-quiz.toml"


def test_questions_use_zero_based_sorted_indices(package):
    quiz = load_package(package.root).lesson("05-quiz")
    single, multiple, truefalse, one_answer_multiple = quiz.questions
    assert single == QuestionSpec("single", "骑电动自行车时应当？",
                                  ("佩戴安全头盔", "边骑边看手机", "逆行抄近路"), (0,),
                                  "《道路交通安全法》规定应佩戴安全头盔。")
    assert multiple.answer == (0, 2)  # written as ["C", "A"]
    assert truefalse.options == ("正确", "错误") and truefalse.answer == (1,)
    assert one_answer_multiple.kind == "multiple" and one_answer_multiple.answer == (0,)


def test_lowercase_answer_letters_are_accepted(package):
    package.replace("lessons/05-quiz.toml", 'answer = "A"', 'answer = "b"')
    assert load_package(package.root).lesson("05-quiz").questions[0].answer == (1,)


def test_quiz_pass_score_defaults_to_60_and_intro_becomes_the_body(package):
    package.replace("lessons/05-quiz.toml", "pass_score = 80\n", 'intro = """\n先复习再作答。\n"""\n')
    quiz = load_package(package.root).lesson("05-quiz")
    assert quiz.pass_score == 60
    assert quiz.body_markdown.strip() == "先复习再作答。"


def test_without_a_lessons_list_every_lesson_file_is_used_in_name_order(package):
    package.replace("course.toml", 'lessons = [\n    "01-intro.md",\n    "02-talk.md",\n    "03-audio.md",\n'
                    '    "04-handout.md",\n    "05-quiz.toml",\n]\n', "")
    package.write("lessons/00-welcome.md", "+++\ntitle = \"欢迎\"\nduration = 30\n+++\n欢迎学习。\n")
    slugs = [lesson.slug for lesson in load_package(package.root).lessons]
    assert slugs == ["00-welcome", "01-intro", "02-talk", "03-audio", "04-handout", "05-quiz"]


def test_listed_order_wins_over_file_names(package):
    package.replace("course.toml", '    "01-intro.md",\n    "02-talk.md",', '    "02-talk.md",\n    "01-intro.md",')
    assert [lesson.slug for lesson in load_package(package.root).lessons][:2] == ["02-talk", "01-intro"]


def test_windows_line_endings_and_bom_are_read(package):
    for name in ("course.toml", "lessons/01-intro.md", "lessons/05-quiz.toml"):
        text = package.path(name).read_text(encoding="utf-8")
        package.path(name).write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    pkg = load_package(package.root)
    assert pkg.title == "道路交通安全"
    assert "\r" not in pkg.lesson("01-intro").body_markdown
    assert len(pkg.lesson("05-quiz").questions) == 4


def test_durations_accept_seconds_and_unit_strings(package):
    original = package.path("lessons/01-intro.md").read_text(encoding="utf-8").replace(
        'min_dwell = "2m"', "min_dwell = 0")
    for written, seconds in [("90", 90), ('"90s"', 90), ('"5m"', 300), ('"1h"', 3600), ('"1h2m3s"', 3723)]:
        package.write("lessons/01-intro.md", original.replace('duration = "5m"', f"duration = {written}", 1))
        assert load_package(package.root).lesson("01-intro").duration_s == seconds


def test_front_matter_toml_error_reports_the_file_line(package):
    package.replace("lessons/01-intro.md", 'kind = "text"', 'kind = text')
    pkg, problems = validate_path(package.root)
    assert pkg is None
    assert [(p.file, p.line, p.code) for p in problems] == [("lessons/01-intro.md", 3, "toml-syntax")]


def test_load_package_raises_with_the_problems(package):
    package.replace("course.toml", "hours = 1.5", "hours = 500")
    with pytest.raises(PackageInvalid) as caught:
        load_package(package.root)
    assert [p.code for p in caught.value.problems] == ["hours-out-of-range"]
    assert "course.toml:7" in str(caught.value)


def test_every_problem_is_reported_at_once(package, media):
    package.replace("course.toml", 'category = "安全"', 'category = "娱乐"')
    package.replace("course.toml", "hours = 1.5", "hours = -1")
    package.replace("lessons/01-intro.md", "../media/helmet.png", "https://example.com/x.png")
    package.replace("lessons/02-talk.md", "media/talk.mp4", "media/missing.mp4")
    package.replace("lessons/05-quiz.toml", 'answer = "A"', 'answer = "Z"')
    package.replace("lessons/05-quiz.toml", "answer = false", 'answer = "no"')
    package.write("media/evil.png", media.elf)
    package.write("notes.txt", "stray file")
    pkg, problems = validate_path(package.root)
    assert pkg is None
    found = {(p.file, p.code) for p in problems}
    assert found == {
        ("course.toml", "category-unknown"),
        ("course.toml", "hours-out-of-range"),
        ("lessons/01-intro.md", "markdown-image-outside-media"),
        ("lessons/02-talk.md", "media-missing"),
        ("lessons/05-quiz.toml", "quiz-answer-invalid"),
        ("media/evil.png", "file-executable"),
        ("notes.txt", "file-disallowed"),
    }
    assert len([p for p in problems if p.code == "quiz-answer-invalid"]) == 2
    # sorted by file, then line
    assert [p.file for p in problems] == sorted(p.file for p in problems)


def test_validate_path_never_raises_for_garbage(tmp_path):
    junk = tmp_path / "upload.zip"
    junk.write_bytes(b"\x00" * 100)
    pkg, problems = validate_path(junk)
    assert pkg is None and [p.code for p in problems] == ["archive-corrupt"]


def test_zip_package_extracts_to_a_tempdir_that_cleanup_removes(package, tmp_path):
    archive = package.zip(tmp_path / "course.zip")
    pkg = load_package(archive, workdir=tmp_path / "work")
    assert pkg.tempdir is not None and pkg.tempdir.parent == tmp_path / "work"
    assert (pkg.root / "media" / "talk.mp4").is_file()
    assert pkg == load_package(package.root)
    pkg.cleanup()
    assert not pkg.tempdir.exists()
    pkg.cleanup()  # idempotent


def test_open_package_removes_the_extraction_even_on_error(package, tmp_path):
    archive = package.zip(tmp_path / "course.zip")
    with pytest.raises(RuntimeError):
        with open_package(archive) as pkg:
            tempdir = pkg.tempdir
            raise RuntimeError("import failed")
    assert tempdir is not None and not tempdir.exists()


def test_invalid_zip_leaves_no_temporary_folder(package, tmp_path):
    package.replace("course.toml", 'category = "安全"', 'category = "娱乐"')
    archive = package.zip(tmp_path / "course.zip")
    work = tmp_path / "work"
    work.mkdir()
    pkg, problems = validate_path(archive, workdir=work)
    assert pkg is None and problems
    assert list(work.iterdir()) == []


def test_zip_of_the_folder_itself_is_accepted(package, tmp_path):
    archive = package.zip(tmp_path / "course.zip", prefix="道路交通安全/")
    with open_package(archive) as pkg:
        assert pkg.id == "road-safety"
        assert pkg.root.name == "道路交通安全"


def test_media_files_lists_everything_under_media(package):
    pkg = load_package(package.root)
    assert "media/talk.mp4" in pkg.media_files() and "media/jingle.mp3" in pkg.media_files()
    assert all(name.startswith("media/") for name in pkg.media_files())


def test_desktop_junk_in_a_folder_is_ignored(package):
    package.write(".DS_Store", b"\x00\x00\x00\x01Bud1")
    package.write("media/Thumbs.db", b"\xd0\xcf\x11\xe0")
    pkg, problems = validate_path(package.root)
    assert problems == []
    assert "media/Thumbs.db" not in pkg.media_files()


# ---------------------------------------------------------------- digests
def _digests(root):
    return {lesson.slug: lesson.digest for lesson in load_package(root).lessons}


def test_digest_ignores_formatting_but_not_content(package, media):
    before = _digests(package.root)
    # reformatting front matter (order, spacing, a comment) is not a change
    package.replace("lessons/01-intro.md", 'title = "为什么要系好头盔"\nkind = "text"',
                    'kind   =   "text"   # 图文\ntitle = "为什么要系好头盔"')
    assert _digests(package.root) == before
    package.replace("lessons/05-quiz.toml", "pass_score = 80", "pass_score = 90")
    after_quiz = _digests(package.root)
    assert after_quiz["05-quiz"] != before["05-quiz"]
    unchanged = [slug for slug in before if slug != "05-quiz"]
    assert [after_quiz[slug] for slug in unchanged] == [before[slug] for slug in unchanged]


def test_digest_covers_media_bytes(package, media):
    before = _digests(package.root)
    package.write("media/talk.mp4", media.mp4(moov_last=True))  # same name, other bytes
    after = _digests(package.root)
    assert after["02-talk"] != before["02-talk"]
    assert after["01-intro"] == before["01-intro"]


def test_digest_covers_images_shown_in_the_body(package, media):
    before = _digests(package.root)
    package.write("media/helmet.png", media.png() + b"redrawn")
    assert _digests(package.root)["01-intro"] != before["01-intro"]


# ---------------------------------------------------------------- grading
def test_grade_scores_exact_answer_sets(package):
    questions = load_package(package.root).lesson("05-quiz").questions
    score, correct = grade(questions, [[0], [2, 0], [1], [0]])
    assert (score, correct) == (100, (True, True, True, True))
    # partly right multiple choice earns nothing; a wrong truefalse answer
    score, correct = grade(questions, [[0], [0], [0], [0]])
    assert (score, correct) == (50, (True, False, False, True))
    assert grade(questions, [[], [], [], []]) == (0, (False, False, False, False))


def test_grade_rounds_half_up():
    q = QuestionSpec("truefalse", "?", ("正确", "错误"), (0,), "")
    assert grade([q, q, q], [[0], [0], [1]])[0] == 67
    assert grade([q] * 8, [[0]] * 5 + [[1]] * 3)[0] == 63  # 62.5 rounds up


def test_grade_refuses_a_wrong_number_of_answers():
    q = QuestionSpec("single", "?", ("a", "b"), (0,), "")
    with pytest.raises(ValueError):
        grade([q], [])


def test_raw_html_images_and_links_are_checked_like_markdown_ones(package):
    package.replace("lessons/01-intro.md", "## 头盔", '## 头盔\n\n<img src="https://evil.example/pixel.gif">\n\n'
                    'text <a href="../media/none.pdf">讲义</a>')
    pkg, problems = validate_path(package.root)
    found = {(p.code, p.line) for p in problems}
    assert ("markdown-image-outside-media", package.line_of("lessons/01-intro.md", "pixel.gif")) in found
    assert ("markdown-link-missing", package.line_of("lessons/01-intro.md", "none.pdf")) in found
