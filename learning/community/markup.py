"""A post's text: Markdown rendered and sanitized exactly like a lesson body, its plain-text
excerpt, the @mentions it makes and the held words it contains."""
from __future__ import annotations

import html
import re
from collections.abc import Sequence

import nh3

from content import render_markdown
from learning.orgs.models import Member

EXCERPT_CHARS = 140
_SPACE = re.compile(r"\s+")


def render_post(body_md: str) -> tuple[str, str]:
    """(safe HTML, plain-text excerpt). No media base: a post cannot embed any image, so
    nothing from another host is ever fetched by a reader's phone; links keep the lesson rules
    (http, https, mailto only, rel="noopener noreferrer")."""
    body_html = render_markdown(body_md)
    text = html.unescape(nh3.clean(body_html, tags=set()))
    return body_html, _SPACE.sub(" ", text).strip()[:EXCERPT_CHARS]


def find_mentions(text: str, candidates: Sequence[Member]) -> list[Member]:
    """Members named as "@姓名". Chinese text has no spaces after a name, so at each "@" the
    longest candidate name that follows wins; a name two candidates share names nobody."""
    by_name: dict[str, list[Member]] = {}
    for member in candidates:
        by_name.setdefault(member.name, []).append(member)
    names = sorted(by_name, key=len, reverse=True)
    found: dict[int, Member] = {}
    for match in re.finditer("@", text):
        rest = text[match.end():match.end() + 64]
        name = next((n for n in names if rest.startswith(n)), None)
        if name is not None and len(by_name[name]) == 1:
            member = by_name[name][0]
            found.setdefault(member.id, member)
    return list(found.values())


def held_by(texts: Sequence[str], words: Sequence[str]) -> list[str]:
    """The listed words the texts contain (case-insensitive, ignoring spaces inside the text
    so "敏 感" does not slip past "敏感")."""
    haystack = _SPACE.sub("", " ".join(texts)).casefold()
    return [w for w in words if _SPACE.sub("", w).casefold() and _SPACE.sub("", w).casefold() in haystack]
