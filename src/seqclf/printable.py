"""How a string that came from a user (a label, a text, a path, a column name) is shown in a message or
on a terminal: as written, except for the characters that act instead of showing. Control characters
(a tab, an escape sequence, a carriage return), bidirectional overrides and line or paragraph
separators are written the way Python escapes them (\\t, \\x1b, \\u202e), so a message stays one line
and a terminal shows what the data holds rather than obeying it."""
from __future__ import annotations

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# C0 and C1 controls, DEL; left-to-right/right-to-left marks, embeddings, overrides and isolates; U+2028/9
_ACTING = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x200E, 0x200F, *range(0x202A, 0x202F),
           *range(0x2066, 0x206A), 0x2028, 0x2029]
_ESCAPES = {code: _NAMED.get(chr(code), f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _ACTING}
_ESCAPES_KEEPING_LINES = {code: escape for code, escape in _ESCAPES.items() if code != ord("\n")}


def printable(text: str, *, keep_line_breaks: bool = False) -> str:
    """`text` with every acting character escaped; with `keep_line_breaks`, "\\n" stays a line break."""
    return text.translate(_ESCAPES_KEEPING_LINES if keep_line_breaks else _ESCAPES)


def shortened(text: str, limit: int = 200) -> str:
    """`text`, or its first `limit` characters and how many more there are: a message quotes data, it
    does not reproduce it."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more characters)"
