"""Reading a report.html in the tests: its tags, its text, its tables' cells."""

from __future__ import annotations

import re
from html.parser import HTMLParser

EVIL = '<script>alert("x")</script>'


class Page(HTMLParser):
    """The tags of a page, the text outside them, and the rows of its tables as
    ``{data-key: (text, data-value)}`` by table class."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.tables: dict[str, list[dict[str, tuple[str, str | None]]]] = {}
        self._table: str | None = None
        self._cell: tuple[str, str | None] | None = None
        self._cell_text: list[str] = []
        self._stack: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        self.tags.append((tag, a))
        self._stack.append(tag)
        if tag == "table":
            self._table = a.get("class") or ""
            # the rows of every table of a class, under the whole class and each of its names
            self._lists = [
                self.tables.setdefault(c, []) for c in {self._table, *self._table.split()}
            ]
        elif tag == "tr" and self._table is not None:
            self._row: dict[str, tuple[str, str | None]] = {}
            for rows in self._lists:
                rows.append(self._row)
        elif tag == "td" and "data-key" in a:
            self._cell = (a["data-key"] or "", a.get("data-value"))
            self._cell_text = []

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()
        if tag == "td" and self._cell is not None and self._table is not None:
            key, value = self._cell
            self._row[key] = ("".join(self._cell_text), value)
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._stack and self._stack[-1] in ("script", "style"):
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell_text.append(data)

    def rows(self, css: str) -> list[dict[str, tuple[str, str | None]]]:
        return [row for row in self.tables.get(css, []) if row]


def assert_self_contained(page: str) -> None:
    """Nothing the page refers to is outside it, and its policy forbids the network."""
    parsed = Page(page)
    for tag, attrs in parsed.tags:
        assert tag not in ("link", "iframe", "object", "embed", "base"), tag
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("data:", "#")), (tag, name, value)
    policy = next(
        a["content"] for t, a in parsed.tags if a.get("http-equiv") == "Content-Security-Policy"
    )
    assert policy is not None and policy.startswith("default-src 'none';")
    assert re.search(r"https?://(?!www\.w3\.org/2000/svg)", page) is None
    assert len(re.findall(r"<script>", page)) == 1  # its own, and nothing injected
