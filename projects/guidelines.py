"""Guidelines are Markdown written by managers; shown to annotators as sanitised HTML."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

# "html": False keeps raw HTML in the Markdown as text; nh3 then removes anything unsafe
# that Markdown itself can produce (javascript: links, odd attributes).
_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def guidelines_html(markdown: str) -> str:
    return nh3.clean(_md.render(markdown or ""), url_schemes={"http", "https", "mailto"})
