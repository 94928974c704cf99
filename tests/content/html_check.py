"""A strict checker for the Telegram HTML the pipeline emits (used by several tests)."""

from __future__ import annotations

import re

ALLOWED = {"b", "i", "u", "s", "a", "code", "pre", "blockquote"}
_TAG = re.compile(r"<(/?)([a-z]+)((?:\s[^<>]*)?)>")
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#x27|#\d+);")
_ATTRIBUTES = {
    "a": re.compile(r' href="[^"<>]*"'),
    "code": re.compile(r'( class="language-[A-Za-z0-9_+#.-]+")?'),
}


def assert_telegram_html(html: str) -> None:
    """Fail unless `html` uses only Telegram's tags, properly nested, with escaped text."""
    stack: list[str] = []
    position = 0
    for match in _TAG.finditer(html):
        _assert_text(html[position : match.start()])
        closing, name, attributes = match.groups()
        assert name in ALLOWED, f"tag <{name}> in {html!r}"
        if closing:
            assert stack, f"</{name}> closes nothing in {html!r}"
            assert stack.pop() == name, f"</{name}> misnested in {html!r}"
        else:
            pattern = _ATTRIBUTES.get(name, re.compile(""))
            assert pattern.fullmatch(attributes), f"attributes {attributes!r} on <{name}>"
            if name == "a":
                assert "a" not in stack, f"nested link in {html!r}"
            stack.append(name)
        position = match.end()
    _assert_text(html[position:])
    assert not stack, f"unclosed {stack} in {html!r}"


def _assert_text(text: str) -> None:
    assert "<" not in text, f"raw < in {text!r}"
    assert ">" not in text, f"raw > in {text!r}"
    assert "&" not in _ENTITY.sub("", text), f"raw & in {text!r}"
