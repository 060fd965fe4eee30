"""What a phone must download to study a course offline."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import url_for

from learning.catalog.models import Course
from learning.catalog.storage import course_store


@dataclass(frozen=True)
class OfflinePackage:
    pages: list[str]  # course page and lesson pages (quizzes included), always downloaded
    media: list[dict] = field(default_factory=list)  # {"url", "bytes", "lesson_id"}: optional

    @property
    def media_bytes(self) -> int:
        return sum(item["bytes"] for item in self.media)


def _size(course: Course, name: str) -> int | None:
    path = course_store() / (course.media_dir or "") / "media" / name
    return path.stat().st_size if course.media_dir and path.is_file() else None


def offline_package(course: Course) -> OfflinePackage:
    lessons = [lesson for lesson in course.lessons if not lesson.retired]
    pages = [url_for("catalog.course", slug=course.slug)]
    pages += [url_for("catalog.lesson", slug=course.slug, lesson_slug=lesson.slug) for lesson in lessons]
    if course.cover and _size(course, course.cover) is not None:
        pages.append(url_for("catalog.media", slug=course.slug, name=course.cover))
    media = []
    for lesson in lessons:
        size = _size(course, lesson.media) if lesson.media else None
        if size is not None:
            media.append({"url": url_for("catalog.media", slug=course.slug, name=lesson.media),
                          "bytes": size, "lesson_id": lesson.id})
    return OfflinePackage(pages=pages, media=media)
