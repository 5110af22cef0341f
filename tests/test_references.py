"""references.bib is one valid BibTeX file: it parses, and no key is defined twice.

A merge that drops a closing brace makes sphinxcontrib-bibtex fail the whole book build with a
line number only; this test says which entry is broken, in seconds, before the build.
"""

import re
from pathlib import Path

import pybtex.database
import pybtex.errors

BIB = Path(__file__).resolve().parent.parent / "references.bib"


def test_references_parse_strictly():
    pybtex.errors.set_strict_mode(True)  # duplicate keys and syntax errors raise
    try:
        data = pybtex.database.parse_file(str(BIB))
    except Exception as exc:  # any parser error, reported with the file name
        raise AssertionError(f"references.bib does not parse: {exc}") from None
    assert data.entries, "references.bib has no entries"


def test_no_key_is_defined_twice():
    keys = re.findall(r"^@\w+\s*\{\s*([^,\s]+)\s*,", BIB.read_text(), flags=re.MULTILINE)
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    assert not dupes, f"keys defined more than once in references.bib: {dupes}"


def test_every_entry_is_closed_before_the_next():
    """Each entry's braces balance before the next '@': names the entry a lost '}' breaks."""
    text = BIB.read_text()
    starts = [m.start() for m in re.finditer(r"^@\w+\s*\{", text, flags=re.MULTILINE)] + [len(text)]
    for a, b in zip(starts, starts[1:]):
        chunk = re.sub(r"(?m)^%.*$", "", text[a:b])
        key = re.match(r"@\w+\s*\{\s*([^,\s]+)", chunk).group(1)
        assert chunk.count("{") == chunk.count("}"), f"references.bib: entry {key!r} has unbalanced braces"
