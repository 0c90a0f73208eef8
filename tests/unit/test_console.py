"""The one console layer: whatever a user's string holds, the terminal shows it as written."""
import io

from hypothesis import given
from hypothesis import strategies as st
from rich.table import Table

from seqclf.console import LiteralConsole, emphasized
from seqclf.errors import DataError
from seqclf.printable import printable

HOSTILE = ["[/]", "[bold]neg", "[link=http://x]pos[/link]", ":smile:", "a\tb", "\x1b[31mred\x1b[0m", "bell\x07",
           "cr\rover", "rtl\u202eoverride", "$x^2$", "\\[escaped]", "tab\t[/bold]"]


def shown(*renderables, width=200) -> str:
    buffer = io.StringIO()
    console = LiteralConsole(file=buffer, width=width)
    console.print(*renderables)
    return buffer.getvalue()


@given(st.text())
def test_any_string_prints_as_written_with_its_control_characters_escaped(text):
    assert shown(text) == printable(text, keep_line_breaks=True) + "\n"


@given(st.text())
def test_printable_text_holds_no_character_that_acts_on_a_terminal(text):
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in "\u202e\u2028\u2066" for c in printable(text))


def test_markup_emoji_codes_and_escape_sequences_in_table_cells_and_titles_are_shown_literally():
    table = Table("class", "text", title="[bold]title")
    for value in HOSTILE:
        table.add_row(value, f"text of {value}")
    output = shown(table)
    for value in HOSTILE:
        assert printable(value) in output
    assert "\x1b" not in output and "\t" not in output and "\r" not in output
    assert "[bold]title" in output


def test_our_own_emphasis_is_a_style_and_the_rest_stays_literal():
    buffer = io.StringIO()
    LiteralConsole(file=buffer, force_terminal=True, color_system="standard").print(emphasized("model", " [/] saved"))
    assert "\x1b[1mmodel\x1b[0m [/] saved" in buffer.getvalue()


def test_error_messages_are_one_line_with_control_characters_escaped_and_data_shortened():
    error = DataError("'\t' expected after '\"'", path="a\nb.tsv", line=3, field="te\x1bxt")
    assert str(error) == "a\\nb.tsv:3: field 'te\\x1bxt': '\\t' expected after '\"'"
    long = DataError("no column 'text' in the header (columns: " + "x" * 21_000 + ")", path="f.tsv", line=1)
    assert len(str(long)) < 1100 and "more characters" in str(long)
