"""Why a course is recommended or planned, as a code plus parameters, and its wording in Chinese
(what members read) and English (for the app's English interface and for logs).

Keeping the code and parameters separate from the wording lets the app store ``Reason.as_dict()``
in the database and render it in the reader's language later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# code: (Chinese, English).  Parameters are filled with str.format.
TEMPLATES: dict[str, tuple[str, str]] = {
    "popular_with_occupation": ("与你职业相同的党员常学", "Often studied by members who work as {occupation}"),
    "popular_with_age": ("与你年龄相仿的党员常学", "Often studied by members of your age"),
    "because_completed": ("因为你学完了《{title}》", "Because you completed “{title}”"),
    "similar_to_completed": ("与你学过的《{title}》内容相近", "Similar to “{title}”, which you completed"),
    "new_course_for_occupation": ("新课程，适合{occupation}", "New course, suited to {occupation}"),
    "new_course": ("新课程：{category}", "New course: {category}"),
    "suits_occupation": ("适合{occupation}学习", "Suited to {occupation}"),
    "popular": ("近期很多党员在学", "Popular with members right now"),
    "recommended": ("根据你的学习情况推荐", "Recommended from your study history"),
    "required": ("支部要求，截止{due}", "Required by your branch, due {due}"),
    "prerequisite": ("学习《{title}》前需要先学", "Needed before “{title}”"),
    "started": ("你已开始学习，继续完成", "You have started this course"),
    "newest": ("新上线课程", "Newly published course"),
}


@dataclass(frozen=True)
class Reason:
    """A readable reason: ``code`` names a template, ``params`` fill it (all strings)."""

    code: str
    params: dict[str, str] = field(default_factory=dict, hash=False)

    def text(self, lang: str = "zh") -> str:
        return format_reason(self.code, self.params, lang)

    def __str__(self) -> str:
        return self.text("zh")

    def as_dict(self) -> dict:
        return {"code": self.code, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: dict) -> Reason:
        return cls(str(data["code"]), {str(k): str(v) for k, v in dict(data.get("params", {})).items()})


def format_reason(code: str, params: dict[str, str] | None = None, lang: str = "zh") -> str:
    """The reason in ``lang`` ("zh" or "en").  Unknown codes read as the generic reason rather than
    failing: a stored plan must still display after a template is retired."""
    zh, en = TEMPLATES.get(code, TEMPLATES["recommended"])
    template = en if lang.lower().startswith("en") else zh
    values = dict(params or {})
    if "due" in values:
        values["due"] = _format_date(values["due"], lang)
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return (TEMPLATES["recommended"][1] if template is en else TEMPLATES["recommended"][0])


def _format_date(value: str, lang: str) -> str:
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    if lang.lower().startswith("en"):
        return day.isoformat()
    return f"{day.year}年{day.month}月{day.day}日"
