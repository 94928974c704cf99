"""Mojibake repair: text that was UTF-8, decoded with a Windows code page and saved again.

This first stage is ftfy restricted to encoding fixes, so clean text is never touched:
no width folding, no quote uncurling, no Unicode normalisation.
"""

from __future__ import annotations

import ftfy

_ENCODING_ONLY = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=False,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)


def repair_text(text: str) -> str:
    """Return `text` with mojibake undone where ftfy can undo it, line by line."""
    return "\n".join(ftfy.fix_text(line, _ENCODING_ONLY) for line in text.split("\n"))
