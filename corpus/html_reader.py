"""HTML: the page's main content as plain text (no menus, footers, scripts), with
sections from its headings and its <h1> or <title> as title."""
from __future__ import annotations

import re

from corpus.document import Extracted
from corpus.textblocks import TextBlocks, usable_title

# Never document text.
_CODE = ["script", "style", "noscript", "template", "iframe", "object", "svg", "canvas",
         "form", "button", "select", "input", "textarea", "head", "link", "meta"]
# Page furniture around the content.
_FURNITURE = ["nav", "aside", "footer", "menu", "dialog"]
_FURNITURE_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar"}
_FURNITURE_NAME = re.compile(
    r"(?:^|[-_\s])(?:nav|navbar|navigation|menu|breadcrumbs?|footer|sidebar|cookies?|"
    r"share|social|related|advert|ads|banner|subscribe|newsletter|comments?)(?:$|[-_\s])", re.I)

_BLOCKS = {"p", "div", "section", "article", "main", "header", "blockquote", "pre", "li",
           "ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "address", "details",
           "summary", "body", "html", "caption", "hr", "br", "center"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def read_html(raw: bytes, doc_id: str) -> Extracted:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    page_title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup(_CODE):
        tag.decompose()
    root = _main_content(soup)
    total = len(root.get_text(strip=True))
    for tag in root.find_all(_is_furniture):
        # A class name can mislead («post has-comments»): never drop most of the page.
        if tag.name in _FURNITURE or len(tag.get_text(strip=True)) < total / 2:
            tag.decompose()
    if root.name in ("body", "html", "[document]"):
        for tag in root.find_all("header"):  # the site's banner; an article keeps its own
            if not tag.find_parent(["article", "main"]):
                tag.decompose()
    blocks = TextBlocks()
    _walk(root, blocks, [])
    # TextBlocks falls back to the first heading when <title> is missing or a file name.
    return blocks.result(page_title if usable_title(page_title) else None)


def _main_content(soup):
    """<main>, else the <article> with the most text, else the body."""
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if main is not None:
        return main
    articles = soup.find_all("article")
    if articles:
        return max(articles, key=lambda a: len(a.get_text(strip=True)))
    return soup.body or soup


def _is_furniture(tag) -> bool:
    if tag.name in _FURNITURE:
        return True
    attrs = getattr(tag, "attrs", None) or {}
    if attrs.get("role") in _FURNITURE_ROLES or attrs.get("aria-hidden") == "true" or "hidden" in attrs:
        return True
    names = " ".join([*(attrs.get("class") or []), attrs.get("id") or ""])
    return bool(names and _FURNITURE_NAME.search(names))


def _walk(node, blocks: TextBlocks, line: list[str]) -> None:
    """Inline text accumulates in `line`; a block element or heading ends the line."""
    from bs4 import NavigableString, Tag
    from bs4.element import Comment, Doctype, ProcessingInstruction

    for child in node.children:
        if isinstance(child, (Comment, Doctype, ProcessingInstruction)):
            continue
        if isinstance(child, NavigableString):
            line.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name in _HEADINGS:
            _flush(blocks, line)
            blocks.add(child.get_text(" "), heading=True)
        elif name == "table":
            _flush(blocks, line)
            rows = [[c.get_text(" ") for c in tr.find_all(["td", "th"])] for tr in child.find_all("tr")]
            blocks.add_table(rows)
        elif name in _BLOCKS:
            _flush(blocks, line)
            _walk(child, blocks, line)
            _flush(blocks, line)
        elif name == "img":
            continue
        else:  # inline: <strong>, <a>, <span>, <em> ... read on in the same line
            _walk(child, blocks, line)


def _flush(blocks: TextBlocks, line: list[str]) -> None:
    if line:
        blocks.add("".join(line))
        line.clear()
