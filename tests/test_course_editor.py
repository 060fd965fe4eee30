"""The browser course editor: a course of every lesson kind made through the forms, problems shown
next to their fields, the quiz editor, and the same validator and importer as an upload."""
from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

import content
from helpers import AuthActions, csrf_from, post_events, study_event, study_for
from learning.audit.models import AuditEvent
from learning.catalog.models import Course, CourseStatus
from learning.extensions import db

LIBRARY = Path(content.__file__).resolve().parent / "library"
MP4 = (LIBRARY / "road-safety" / "media" / "three-rules.mp4").read_bytes()
M4A = (LIBRARY / "first-aid" / "media" / "cpr-steps.m4a").read_bytes()
PNG = (LIBRARY / "first-aid" / "media" / "cover.png").read_bytes()
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

COURSE = {"id": "night-riding", "title": "夜间骑行安全", "summary": "夜里送餐要注意的几件事。", "category": "安全",
          "hours": "1.5", "version": "1.0.0", "tags": "交通，夜间", "audience": ["外卖骑手", "快递员"]}


class Editor:
    """An administrator's browser on the editor pages."""

    def __init__(self, app, lang: str = ""):
        self.client = app.test_client()
        AuthActions(self.client).login("13800000000")
        self.token = csrf_from(self.client.get("/admin/courses").get_data(as_text=True))
        self.lang = lang

    def post(self, url: str, data: dict, **files):
        body = {"csrf_token": self.token, **data}
        for name, (payload, filename) in files.items():
            body[name] = FileStorage(io.BytesIO(payload), filename=filename, content_type="application/octet-stream")
        # Encoded in memory: the test client spools bodies over 500 KB to a file it never closes.
        boundary, encoded = encode_multipart(MultiDict([(k, v) for k, vs in body.items()
                                                        for v in (vs if isinstance(vs, list) else [vs])]))
        return self.client.post(url + self.lang, data=encoded,
                                content_type=f"multipart/form-data; boundary={boundary}")

    def new_course(self, **changes):
        return self.post("/admin/courses/new", {**COURSE, **changes})

    def lesson(self, slug: str, kind: str, data: dict, name: str | None = None, **files):
        url = f"/admin/courses/{slug}/draft/lessons/{name}" if name else f"/admin/courses/{slug}/draft/new/{kind}"
        return self.post(url, {"action": "save", **data}, **files)


def _question(i: int, type_: str, prompt: str, options=(), correct=(), truth="", explanation="解析。") -> dict:
    data = {f"q-{i}-type": type_, f"q-{i}-prompt": prompt, f"q-{i}-truth": truth,
            f"q-{i}-explanation": explanation, f"q-{i}-correct": [str(c) for c in correct]}
    data.update({f"q-{i}-opt-{j}": text for j, text in enumerate(options)})
    return data


def _error(page: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    assert match, f"no error shown for {field_id}"
    return match.group(1)


def _make_full_course(editor: Editor) -> None:
    assert editor.new_course().status_code == 302
    slug = COURSE["id"]
    common = {"duration": "5m", "min_dwell": "2m"}
    assert editor.lesson(slug, "text", {**common, "title": "出发前检查", "body": "## 车灯\n\n- 前灯\n- 尾灯"}).status_code == 302
    assert editor.lesson(slug, "video", {**common, "title": "三条规矩", "body": "视频文字稿。",
                                         "requires": ["01-text"]},
                         media=(MP4, "三条规矩.MP4")).status_code == 302
    assert editor.lesson(slug, "audio", {**common, "title": "听一听"}, media=(M4A, "cpr.m4a")).status_code == 302
    assert editor.lesson(slug, "pdf", {"title": "讲义", "duration": "3m", "optional": "y"},
                         media=(PDF, "handout.pdf")).status_code == 302
    quiz = {"title": "课后测验", "duration": "3m", "min_dwell": "1m", "pass_score": "80", "body": "作答前请先复习。",
            **_question(0, "single", "夜间骑行应当？", ["打开车灯", "关掉车灯"], [0]),
            **_question(1, "multiple", "哪些做法正确？", ["穿反光背心", "", "逆行", "减速慢行"], [0, 3]),
            **_question(2, "truefalse", "夜里可以不开灯。", truth="false")}
    response = editor.lesson(slug, "quiz", quiz)
    assert response.status_code == 302, response.get_data(as_text=True)
    cover = editor.post(f"/admin/courses/{slug}/draft", {k: v for k, v in COURSE.items() if k != "id"},
                        cover=(PNG, "封面.png"))
    assert cover.status_code == 302


def test_a_course_of_every_kind_made_in_the_browser(app, city, runner, tmp_path):
    editor = Editor(app)
    _make_full_course(editor)
    page = editor.client.get("/admin/courses/night-riding/draft").get_data(as_text=True)
    assert page.index("出发前检查") < page.index("三条规矩") < page.index("课后测验")
    assert "night-riding" in editor.client.get("/admin/courses").get_data(as_text=True)

    response = editor.post("/admin/courses/night-riding/draft/import", {"publish": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/courses/night-riding")
    db.session.rollback()
    course = db.session.scalar(select(Course).where(Course.slug == "night-riding"))
    assert course.status == CourseStatus.PUBLISHED and course.version == "1.0.0"
    assert (course.title, course.category, course.hours, course.audience, course.tags) == (
        "夜间骑行安全", "安全", 1.5, ["外卖骑手", "快递员"], ["交通", "夜间"])
    assert course.cover == "cover.png"
    kinds = [(lesson.slug, lesson.kind) for lesson in course.lessons]
    assert kinds == [("01-text", "text"), ("02-video", "video"), ("03-audio", "audio"), ("04-pdf", "pdf"),
                     ("05-quiz", "quiz")]
    text, video, audio, pdf, quiz = course.lessons
    assert "<h2>车灯</h2>" in text.body_html and text.duration_s == 300 and text.min_dwell_s == 120
    assert video.media == "02-video.mp4" and video.requires == ["01-text"]
    assert pdf.optional is True and pdf.min_dwell_s == 90  # default: half the duration
    assert quiz.pass_score == 80 and "作答前请先复习" in quiz.body_html
    assert [(q["kind"], q["options"], q["answer"]) for q in quiz.questions] == [
        ("single", ["打开车灯", "关掉车灯"], [0]),
        ("multiple", ["穿反光背心", "逆行", "减速慢行"], [0, 2]),  # the empty slot is dropped, marks follow
        ("truefalse", ["正确", "错误"], [1])]
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.target == "course:night-riding")) \
        == "course_imported"
    # the draft is gone once the version is saved
    assert not (Path(app.instance_path) / "drafts" / "night-riding").exists()

    # a member studies it; its media come with exact types
    member = app.test_client()
    AuthActions(member).login("13800000002")
    with member.get("/courses/night-riding/media/02-video.mp4") as media:
        assert media.status_code == 200 and media.get_data() == MP4 and media.mimetype == "video/mp4"

    # export validates and re-imports as the same course
    out = tmp_path / "night-riding.zip"
    assert runner.invoke(args=["content", "export", "night-riding", str(out)]).exit_code == 0
    stored = Path(app.instance_path) / "courses" / course.media_dir
    with content.open_package(out) as exported:
        assert exported == content.load_package(stored)
        assert [lesson.digest for lesson in exported.lessons] == [lesson.digest for lesson in course.lessons]
    db.session.rollback()
    assert runner.invoke(args=["content", "import", str(out)]).exit_code == 0
    db.session.rollback()
    again = db.session.scalar(select(Course).where(Course.slug == "night-riding"))
    assert [lesson.changed_in for lesson in again.lessons] == [None] * 5


def test_course_form_problems_are_shown_next_to_their_fields(app, city):
    editor = Editor(app)
    response = editor.new_course(id="Bad Id")
    assert response.status_code == 400
    assert "课程 id“Bad Id”无效" in _error(response.get_data(as_text=True), "id")

    response = editor.new_course(hours="很多", category="娱乐", title="", audience=["外卖骑手"], version="1.0 beta")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "应为数字" in _error(page, "hours")
    assert "未知分类“娱乐”" in _error(page, "category")
    assert "不能为空" in _error(page, "title")
    assert "版本号“1.0 beta”无效" in _error(page, "version")
    assert 'value="外卖骑手" checked' in page  # what was typed stays on the page
    assert not (Path(app.instance_path) / "drafts" / COURSE["id"]).exists()

    assert editor.new_course().status_code == 302
    taken = editor.new_course()
    assert taken.status_code == 400 and "已被使用" in _error(taken.get_data(as_text=True), "id")

    english = Editor(app, lang="?lang=en").post("/admin/courses/night-riding/draft", {**COURSE, "hours": "0"})
    assert english.status_code == 400
    assert "Hours 0 out of range" in _error(english.get_data(as_text=True), "hours")


def test_lesson_problems_are_shown_next_to_their_fields_and_nothing_is_saved(app, city):
    editor = Editor(app)
    assert editor.new_course().status_code == 302
    response = editor.lesson("night-riding", "text", {"title": "", "duration": "5 minutes", "min_dwell": "", "body": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "不能为空" in _error(page, "title")
    assert "无效" in _error(page, "duration")
    assert _error(page, "body")
    response = editor.lesson("night-riding", "text", {"title": "标题", "duration": "2m", "min_dwell": "5m",
                                                      "body": "![图](https://example.com/x.png)"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "min_dwell" in _error(page, "min_dwell") and _error(page, "body")
    # a "video" that is really a web page is refused by its content, whatever its name
    response = editor.lesson("night-riding", "video", {"title": "视频", "duration": "2m"},
                             media=(b"<html><script>alert(1)</script></html>", "talk.mp4"))
    assert response.status_code == 400 and _error(response.get_data(as_text=True), "media")
    wrong_type = editor.lesson("night-riding", "audio", {"title": "音频", "duration": "2m"}, media=(MP4, "talk.mp4"))
    assert wrong_type.status_code == 400 and ".m4a" in _error(wrong_type.get_data(as_text=True), "media")
    no_file = editor.lesson("night-riding", "pdf", {"title": "文档", "duration": "2m"})
    assert no_file.status_code == 400 and _error(no_file.get_data(as_text=True), "media")
    draft = Path(app.instance_path) / "drafts" / "night-riding"
    assert not (draft / "lessons").exists() or not any((draft / "lessons").iterdir())
    assert not (draft / "media").exists() or not any((draft / "media").iterdir())
    assert "lessons = []" in (draft / "course.toml").read_text(encoding="utf-8")
    # nothing to save yet: the course's own problem is shown, nothing is imported
    response = editor.post("/admin/courses/night-riding/draft/import", {})
    assert response.status_code == 400 and "课程没有任何课时" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(Course).where(Course.slug == "night-riding")) is None


def test_quiz_editor(app, city):
    editor = Editor(app)
    assert editor.new_course().status_code == 302
    url = "/admin/courses/night-riding/draft/new/quiz"
    page = editor.client.get(url).get_data(as_text=True)
    assert 'name="q-0-prompt"' in page and 'name="q-1-prompt"' not in page
    base = {"title": "测验", "duration": "3m", "pass_score": "60",
            **_question(0, "single", "第一题？", ["对", "错"], [0])}
    added = editor.post(url, {**base, "action": "add-question"})
    page = added.get_data(as_text=True)
    assert added.status_code == 200 and 'name="q-1-prompt"' in page and "第一题？" in page  # nothing lost
    removed = editor.post(url, {**base, **_question(1, "single", "第二题？", ["甲", "乙"], [1]),
                                "action": "remove-question-0"})
    page = removed.get_data(as_text=True)
    assert "第二题？" in page and "第一题？" not in page and 'name="q-1-prompt"' not in page

    bad = editor.lesson("night-riding", "quiz", {
        "title": "测验", "duration": "3m", "pass_score": "120",
        **_question(0, "single", "两个答案？", ["甲", "乙", "丙"], [0, 1]),
        **_question(1, "multiple", "只有一个选项", ["甲"], [0]),
        **_question(2, "truefalse", "没有选对错", explanation="")})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "0–100" in _error(page, "pass_score")
    assert "第 1 题" in _error(page, "questions-0-answer")
    assert "第 2 题" in _error(page, "questions-1-options")
    assert "answer" in _error(page, "questions-2")  # no answer chosen: the question itself is flagged
    assert "不能为空" in _error(page, "questions-2-explanation")
    assert not (Path(app.instance_path) / "drafts" / "night-riding" / "lessons" / "01-quiz.toml").exists()


def test_preview_is_rendered_and_sanitized(app, city):
    editor = Editor(app)
    assert editor.new_course().status_code == 302
    response = editor.post("/admin/courses/night-riding/draft/new/text", {
        "title": "预览", "duration": "2m", "action": "preview",
        "body": "**加粗**\n\n<script>alert(1)</script><img src=x onerror=alert(2)>"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<strong>加粗</strong>" in page
    assert "alert(1)" not in page.split('class="preview"')[1] and "onerror" not in page.split('class="preview"')[1]
    assert "<script>" not in page.split('class="preview"')[1]


def test_lessons_are_reordered_and_deleted_with_their_media(app, city):
    editor = Editor(app)
    assert editor.new_course().status_code == 302
    for title in ("甲", "乙"):
        assert editor.lesson("night-riding", "text", {"title": title, "duration": "2m", "body": title}).status_code == 302
    assert editor.lesson("night-riding", "audio", {"title": "丙", "duration": "2m"}, media=(M4A, "a.m4a")).status_code == 302
    draft = Path(app.instance_path) / "drafts" / "night-riding"
    assert editor.post("/admin/courses/night-riding/draft/lessons/02-text.md/order", {"action": "up"}).status_code == 302
    toml = (draft / "course.toml").read_text(encoding="utf-8")
    assert 'lessons = ["02-text.md", "01-text.md", "03-audio.md"]' in toml
    assert (draft / "media" / "03-audio.m4a").exists()
    assert editor.post("/admin/courses/night-riding/draft/lessons/03-audio.md/order", {"action": "delete"}).status_code == 302
    assert not (draft / "lessons" / "03-audio.md").exists() and not (draft / "media" / "03-audio.m4a").exists()
    assert editor.post("/admin/courses/night-riding/draft/lessons/nope.md/order", {"action": "up"}).status_code == 400
    assert editor.post("/admin/courses/night-riding/draft/discard", {}).status_code == 302
    assert not draft.exists()


@pytest.fixture
def road_safety(runner, city):
    assert runner.invoke(args=["content", "import", str(LIBRARY / "road-safety"), "--publish"]).exit_code == 0
    db.session.rollback()
    return db.session.scalar(select(Course).where(Course.slug == "road-safety"))


def test_editing_a_published_course_makes_its_next_version(app, city, road_safety):
    course = road_safety
    old_folder = Path(app.instance_path) / "courses" / course.media_dir
    first, changed = course.lessons[0], course.lessons[1]
    first_id, changed_id, changed_name = first.id, changed.id, Path(changed.slug).name
    member = app.test_client()
    AuthActions(member).login("13800000002")
    token = csrf_from(member.get("/").get_data(as_text=True))
    for lesson_id in (first_id, changed_id):
        study_for(member, lesson_id)  # the minimum dwell before 我已学完本课 counts
        if lesson_id == changed_id:  # the video: its player reports it watched, the button alone is not enough
            post_events(member, [study_event(lesson_id, position=30.0, progress=0.95)])
        assert member.post(f"/lessons/{lesson_id}/complete", data={"csrf_token": token}).status_code == 302

    editor = Editor(app)
    # the administrator's last metadata edit is what the draft starts from
    editor.post("/admin/courses/road-safety/edit", {"title": "道路交通安全（新）", "summary": "简介", "category": "安全",
                                                    "hours": "2", "audience": ""})
    assert editor.post("/admin/courses/road-safety/draft/start", {}).status_code == 302
    page = editor.client.get("/admin/courses/road-safety/draft").get_data(as_text=True)
    assert "道路交通安全（新）" in page and 'value="1.0.1"' in page
    files = [name for name in re.findall(r"/draft/lessons/([\w.-]+)\"", page)]
    name = next(f for f in files if f.startswith(changed_name))
    form = editor.client.get(f"/admin/courses/road-safety/draft/lessons/{name}").get_data(as_text=True)
    title = re.search(r'id="title" name="title"[^>]*value="([^"]*)"', form).group(1)
    body = re.search(r'<textarea id="body"[^>]*>(.*?)</textarea>', form, re.S).group(1)
    data = {"title": html.unescape(title), "duration": re.search(r'name="duration"[^>]*value="([^"]*)"', form).group(1),
            "min_dwell": re.search(r'name="min_dwell"[^>]*value="([^"]*)"', form).group(1),
            "body": html.unescape(body) + "\n\n补充：夜间要开灯。"}
    assert editor.lesson("road-safety", "", data, name=name).status_code == 302
    assert editor.post("/admin/courses/road-safety/draft/import", {"publish": "y"}).status_code == 302

    db.session.rollback()
    course = db.session.get(Course, course.id)
    by_id = {lesson.id: lesson for lesson in course.lessons}
    assert course.version == "1.0.1" and course.title == "道路交通安全（新）"
    assert by_id[first_id].changed_in is None and by_id[changed_id].changed_in == "1.0.1"
    # the superseded version's files are gone, the current version's are there
    assert not old_folder.exists()
    assert (Path(app.instance_path) / "courses" / course.media_dir / "course.toml").is_file()

    # the member keeps both completions and sees which lesson changed since
    page = member.get("/courses/road-safety").get_data(as_text=True)
    assert page.count('class="tag ok">已学完') == 2 and page.count("已更新") == 1
    row = page[page.index(by_id[changed_id].title):]
    assert row.index("已更新") < row.index("</li>")


def test_a_failed_import_keeps_the_current_version_files(app, city, road_safety):
    """The superseded folder goes only when the new version is committed."""
    from content import load_package
    from learning.catalog.operations import import_package
    from learning.catalog.storage import course_store

    current = Path(app.instance_path) / "courses" / road_safety.media_dir
    with load_package(LIBRARY / "road-safety") as pkg:
        course = import_package(pkg, store_root=course_store(), actor=None, publish=True)
        new_folder = Path(app.instance_path) / "courses" / course.media_dir
        db.session.rollback()
    assert current.is_dir() and new_folder.is_dir()
    db.session.rollback()
    assert db.session.scalar(select(Course.media_dir).where(Course.slug == "road-safety")) == road_safety.media_dir


def test_unreferenced_version_folders_are_found_but_never_the_current_one(app, city, road_safety, runner):
    import os
    import time

    from learning.catalog.storage import STALE_AFTER_S, course_store, unreferenced_versions

    store = course_store()
    current = store / road_safety.media_dir
    orphan = store / "road-safety" / "0.9-deadbeef0000"
    fresh = store / "road-safety" / "1.2-importing000"
    for folder in (orphan, fresh):
        folder.mkdir()
    old = time.time() - STALE_AFTER_S - 60
    for folder in (orphan, current):
        os.utime(folder, (old, old))
    found = unreferenced_versions(store, {"road-safety": road_safety.media_dir})
    assert found == [orphan]
    result = runner.invoke(args=["content", "prune"])
    assert result.exit_code == 0, result.output
    assert not orphan.exists() and current.is_dir() and fresh.is_dir()


def test_media_headers_sandbox_documents_and_name_files(app, city):
    editor = Editor(app)
    _make_full_course(editor)
    assert editor.post("/admin/courses/night-riding/draft/import", {"publish": "y"}).status_code == 302
    member = app.test_client()
    AuthActions(member).login("13800000002")
    with member.get("/courses/night-riding/media/04-pdf.pdf") as pdf:
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.get_data() == PDF
        assert pdf.headers["X-Content-Type-Options"] == "nosniff"
        assert pdf.headers["Content-Disposition"] == "inline; filename=04-pdf.pdf"
        # no sandbox for PDFs (browsers' viewers refuse it), but only the academy may frame them
        csp = pdf.headers["Content-Security-Policy"]
        assert "sandbox" not in csp and "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
        assert pdf.cache_control.private and not pdf.cache_control.public
    with member.get("/courses/night-riding/media/04-pdf.pdf?download=1") as download:
        assert download.headers["Content-Disposition"] == "attachment; filename=04-pdf.pdf"
    with member.get("/courses/night-riding/media/cover.png") as image:
        csp = image.headers["Content-Security-Policy"]
        assert csp.startswith("sandbox;") and "default-src 'none'" in csp and "script" not in csp
    app.config["MEDIA_ACCEL_PREFIX"] = "/_courses"
    accel = member.get("/courses/night-riding/media/04-pdf.pdf?download=1")
    assert accel.headers["X-Accel-Redirect"].endswith("/media/04-pdf.pdf")
    assert accel.headers["Content-Disposition"] == "attachment; filename=04-pdf.pdf"
    assert accel.headers["Content-Security-Policy"] == pdf.headers["Content-Security-Policy"]
    assert accel.cache_control.private and accel.cache_control.max_age == 3600


def test_chinese_media_names_get_an_rfc_6266_disposition(app, city):
    from learning.catalog.views import _filename_options

    assert _filename_options("讲义.pdf") == {"filename": ".pdf", "filename*": "UTF-8''%E8%AE%B2%E4%B9%89.pdf"}


def test_course_prerequisites_from_package_and_editor_to_the_pages(app, city, runner, tmp_path):
    first = runner.invoke(args=["content", "import", str(LIBRARY / "party-history"), "--publish"])
    assert first.exit_code == 0 and "prerequisites not published (plans ignore them until they are): " \
        "theory-basics" in first.output
    second = runner.invoke(args=["content", "import", str(LIBRARY / "theory-basics"), "--publish"])
    assert second.exit_code == 0 and "prerequisites not published" not in second.output
    db.session.rollback()
    history = db.session.scalar(select(Course).where(Course.slug == "party-history"))
    assert history.prerequisites == ["theory-basics"]
    editor = Editor(app)
    page = editor.client.get("/admin/courses/party-history/edit").get_data(as_text=True)
    assert "先修课程：《党的基本理论学习入门》" in page and "data-unknown-prerequisites" not in page

    # the editor's field: checked by the validator, problems shown next to it
    response = editor.new_course(prerequisites="party-history，Bad Id、night-riding")
    assert response.status_code == 400
    error = _error(response.get_data(as_text=True), "prerequisites")
    assert "“Bad Id”不是有效的课程 id" in error and "不能把自己（“night-riding”）列为先修课程" in error
    assert editor.new_course(prerequisites="party-history, not-yet-written").status_code == 302
    page = editor.client.get("/admin/courses/night-riding/draft").get_data(as_text=True)
    assert 'value="party-history，not-yet-written"' in page
    assert editor.lesson("night-riding", "text", {"title": "出发前检查", "duration": "5m", "body": "车灯。"}).status_code == 302
    assert editor.post("/admin/courses/night-riding/draft/import", {"publish": "y"}).status_code == 302
    db.session.rollback()
    course = db.session.scalar(select(Course).where(Course.slug == "night-riding"))
    assert course.prerequisites == ["party-history", "not-yet-written"]

    # the administrator sees the prerequisite that names no published course
    page = editor.client.get("/admin/courses/night-riding/edit?lang=en").get_data(as_text=True)
    assert "Prerequisites: “党史中的关键节点”" in page
    assert "not-yet-written" in page[page.index("data-unknown-prerequisites"):]
    assert "the learning plan ignores them" in page

    # a member who has not studied it is advised to, with a link; the unknown one is not shown
    member = app.test_client()
    AuthActions(member).login("13800000002")
    page = member.get("/courses/night-riding").get_data(as_text=True)
    hint = page[page.index("data-prerequisites"):]
    hint = hint[:hint.index("</p>")]
    assert "建议先学" in hint and '<a href="/courses/party-history">《党史中的关键节点》</a>' in hint
    assert "not-yet-written" not in hint
    assert "data-prerequisites" not in member.get("/courses/theory-basics").get_data(as_text=True)

    # export and the next draft keep them
    out = tmp_path / "night-riding.zip"
    assert runner.invoke(args=["content", "export", "night-riding", str(out)]).exit_code == 0
    with content.open_package(out) as exported:
        assert exported.prerequisites == ("party-history", "not-yet-written")
    assert editor.post("/admin/courses/night-riding/draft/start", {}).status_code == 302
    page = editor.client.get("/admin/courses/night-riding/draft").get_data(as_text=True)
    assert 'value="party-history，not-yet-written"' in page
