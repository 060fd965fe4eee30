"""Markdown to safe HTML, and the reference rules the validator checks against the same parser.

Lesson bodies come from uploaded packages and are shown inside the app's pages, so the HTML is
untrusted: markdown-it renders it (raw HTML allowed, so harmless tags like <br> in a table still
work) and nh3 then keeps only an explicit allow-list. Links and images are resolved once, on the
token stream, so what the validator reports and what the renderer shows cannot disagree."""
from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset({
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "li",
    "table", "thead", "tbody", "tr", "th", "td", "blockquote", "code", "pre",
    "em", "strong", "a", "img", "br", "hr",
})
# "*": nothing, or ammonia keeps its default generic attributes (lang, title) on every tag.
_ATTRIBUTES = {"*": set(), "a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
# Table column alignment: markdown-it writes it as a style attribute, which is not allowed
# (no CSS from packages); an enumerated align attribute carries the same meaning safely.
_ALIGN = {"left", "center", "right"}
_TAG_VALUES = {"th": {"align": _ALIGN}, "td": {"align": _ALIGN}}
LINK_SCHEMES = ("http://", "https://", "mailto:")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_STYLE_ALIGN = re.compile(r"^text-align:\s*(left|center|right)$")
_HTML_TAG = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9-]*)")
_IMG_TAG = re.compile(r'<img((?:\s+[a-zA-Z-]+="[^"]*")*)\s*/?>')
_SRC_ATTR = re.compile(r'\ssrc="')
_HTML_URL = re.compile(
    r"""<\s*(img|a)\b[^>]*?\s(src|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_EVENT_ATTR = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)

_md = MarkdownIt("commonmark", {"html": True}).enable("table")


@dataclass(frozen=True)
class Ref:
    """Where a link or image points. `path` is relative to the package root for media."""

    kind: Literal["media", "external", "anchor", "invalid"]
    path: str = ""
    fragment: str = ""


def resolve_package_path(path: str) -> str | None:
    """A package-root-relative path inside media/, normalized; None when it points elsewhere."""
    if not path or "\\" in path or path.startswith("/") or _SCHEME.match(path):
        return None
    normalized = posixpath.normpath(path)
    if not normalized.startswith("media/") or normalized.startswith("media/..") or ".." in normalized.split("/"):
        return None
    return normalized


def resolve_ref(url: str) -> Ref:
    """Resolve a link or image target written in a lesson in lessons/."""
    if url.startswith("#"):
        return Ref("anchor", fragment=url)
    if url.lower().startswith(LINK_SCHEMES):
        return Ref("external", path=url)
    if _SCHEME.match(url) or url.startswith("//"):
        return Ref("invalid", path=url)
    target, _, fragment = url.partition("#")
    target = unquote(target.partition("?")[0])
    # "media/x.png" is root-relative (as in front matter); anything else is relative to lessons/
    candidate = target if target.startswith("media/") else posixpath.join("lessons", target)
    path = resolve_package_path(candidate)
    if path is None:
        return Ref("invalid", path=url)
    return Ref("media", path=path, fragment=f"#{fragment}" if fragment else "")


@dataclass(frozen=True)
class BodyRef:
    """A reference found in a Markdown body, with its 0-based line in the body."""

    element: Literal["image", "link", "html"]
    url: str
    ref: Ref | None
    line: int


def parse(md_text: str) -> list[Token]:
    return _md.parse(md_text)


def body_refs(md_text: str) -> list[BodyRef]:
    """Every image, link and raw HTML fragment in the body, for the validator."""
    lines = md_text.split("\n")
    found: list[BodyRef] = []
    for token in parse(md_text):
        start, end = token.map or (0, 1)
        if token.type == "html_block":
            found.extend(_html_refs(token.content, lines, start, end))
        for child in token.children or ():
            if child.type == "image":
                url = str(child.attrGet("src") or "")
                found.append(BodyRef("image", url, resolve_ref(url), _line_of(lines, start, end, url)))
            elif child.type == "link_open":
                url = str(child.attrGet("href") or "")
                found.append(BodyRef("link", url, resolve_ref(url), _line_of(lines, start, end, url)))
            elif child.type == "html_inline":
                found.extend(_html_refs(child.content, lines, start, end))
    return found


def _html_refs(fragment: str, lines: list[str], start: int, end: int) -> list[BodyRef]:
    """The fragment itself (for disallowed tags) and the targets of raw <img src> / <a href>."""
    found = [BodyRef("html", fragment, None, _line_of(lines, start, end, fragment.split("\n", 1)[0]))]
    for match in _HTML_URL.finditer(fragment):
        url = html.unescape(next(g for g in match.group(3, 4, 5) if g is not None))
        element = "image" if match.group(1).lower() == "img" else "link"
        found.append(BodyRef(element, url, resolve_ref(url), _line_of(lines, start, end, url)))
    return found


def disallowed_html(fragment: str) -> list[str]:
    """Tags (and event-handler attributes) in raw HTML that rendering would remove."""
    tags = dict.fromkeys(tag.lower() for tag in _HTML_TAG.findall(fragment))
    problems = [f"<{tag}>" for tag in tags if tag not in ALLOWED_TAGS]
    if _EVENT_ATTR.search(fragment):
        problems.append("on…=")
    if "javascript:" in fragment.lower():
        problems.append("javascript:")
    return problems


def _line_of(lines: list[str], start: int, end: int, needle: str) -> int:
    """The body line in [start, end) that contains `needle` (markdown-it normalizes URLs, so
    also try the decoded form); the block's first line otherwise."""
    candidates = {needle, unquote(needle)}
    for index in range(start, min(end, len(lines))):
        if any(c and c in lines[index] for c in candidates):
            return index
    return start


def _media_url(media_base: str, ref: Ref) -> str:
    return media_base + quote(ref.path[len("media/"):]) + quote(ref.fragment, safe="#=&")


def _rewrite(tokens: list[Token], media_base: str | None) -> None:
    for token in tokens:
        if token.type in ("th_open", "td_open"):
            match = _STYLE_ALIGN.match(str(token.attrGet("style") or ""))
            token.attrs = {"align": match.group(1)} if match else {}
        if not token.children:
            continue
        dropping_link = False
        for child in token.children:
            if child.type == "image":
                ref = resolve_ref(str(child.attrGet("src") or ""))
                if ref.kind == "media" and media_base is not None:
                    child.attrSet("src", _media_url(media_base, ref))
                else:
                    # a remote or unresolvable image becomes its alt text: nothing is fetched
                    child.type, child.tag, child.attrs, child.children = "text", "", {}, None
            elif child.type == "link_open":
                ref = resolve_ref(str(child.attrGet("href") or ""))
                if ref.kind == "media" and media_base is not None:
                    child.attrSet("href", _media_url(media_base, ref))
                elif ref.kind in ("external", "anchor"):
                    pass
                else:
                    dropping_link = True
                    child.type, child.tag, child.attrs, child.content = "text", "", {}, ""
            elif child.type == "link_close" and dropping_link:
                dropping_link = False
                child.type, child.tag, child.content = "text", "", ""


def render_markdown(md_text: str, media_base: str | None = None) -> str:
    """Sanitized HTML for a lesson body.

    `media_base` is the URL prefix under which the package's media/ folder is served (ending in
    "/"): `![x](../media/a.png)` becomes `<img src="{media_base}a.png">`. Without it, media
    images become their alt text and media links plain text. Remote images are always removed;
    links may go to http(s)/mailto addresses and media files, and carry rel="noopener noreferrer"."""
    tokens = parse(md_text)
    _rewrite(tokens, media_base)
    rendered = _md.renderer.render(tokens, _md.options, {})

    def keep(tag: str, attribute: str, value: str) -> str | None:
        # Markdown references were rewritten on the token stream; raw HTML ones arrive here as
        # written and get the same treatment.
        if tag == "img" and attribute == "src":
            return _media_target(value, media_base)
        if tag == "a" and attribute == "href":
            if value.lower().startswith(LINK_SCHEMES) or value.startswith("#"):
                return value
            return _media_target(value, media_base)
        return value

    clean = nh3.clean(
        rendered,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in _ATTRIBUTES.items()},
        tag_attribute_values={tag: {a: set(v) for a, v in values.items()} for tag, values in _TAG_VALUES.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=keep,
    )
    # An <img> whose src was refused would show a broken-image box; drop it. The pattern is
    # exact because nh3 serializes every attribute as name="value" with '"' escaped.
    return _IMG_TAG.sub(lambda m: m.group(0) if _SRC_ATTR.search(m.group(1)) else "", clean)


def _media_target(value: str, media_base: str | None) -> str | None:
    """`value` when it already is a URL under media_base, the rewritten URL when it is a package
    media reference, else None."""
    if not media_base:
        return None
    if value.startswith(media_base):
        rest = unquote(value[len(media_base):])
        if "\\" not in rest and ".." not in rest.split("/") and not _SCHEME.match(rest):
            return value
        return None
    ref = resolve_ref(value)
    return _media_url(media_base, ref) if ref.kind == "media" else None
