"""Markdown: the text a reader sees, without markup. Headings become sections; lists,
emphasis, links and images are reduced to their text; tables are read row by row.
The stored text is this plain text, so every offset refers to it."""
from __future__ import annotations

from corpus.document import Extracted
from corpus.textblocks import TextBlocks


def read_markdown(text: str) -> Extracted:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").enable("strikethrough").parse(text)
    blocks = TextBlocks()
    heading = False
    table: list[list[str]] | None = None
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            heading = True
        elif tok.type == "heading_close":
            heading = False
        elif tok.type == "table_open":
            table = []
        elif tok.type == "tr_open" and table is not None:
            table.append([])
        elif tok.type == "table_close" and table is not None:
            blocks.add_table(table)
            table = None
        elif tok.type == "inline":
            if table is not None and table:
                table[-1].append(_inline_text(tok))
            else:
                blocks.add(_inline_text(tok), heading=heading)
        elif tok.type in ("fence", "code_block"):
            for line in tok.content.splitlines():
                blocks.add(line)
        elif tok.type == "html_block":
            blocks.add(_html_text(tok.content))
    return blocks.result()


def _inline_text(tok) -> str:
    out = []
    for child in tok.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif child.type == "image":
            out.append("".join(c.content for c in child.children or []))
        elif child.type == "html_inline":
            continue  # a tag; the text around it is kept
    return "".join(out)


def _html_text(html: str) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser").get_text(" ")
