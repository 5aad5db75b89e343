"""Reading spreadsheets as people export them: bytes → text → records, saying what was decided.

Excel, LibreOffice, Google Sheets and Numbers write "CSV" in many ways; this module reads them all the
same way and notes what it had to decide (`Table.notes`, shown in the import summary): compression,
encoding, delimiter, and which records it refused and why (a value is never read from a neighbouring
column or row). The rules: docs/architecture.md, "Spreadsheets".
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

from device.errors import CatalogError

DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SAMPLE_ROWS = 1000  # the rows that per-column decisions (decimal mark, percentages) are taken from

# BOMs, longest first (UTF-32 LE starts like UTF-16 LE).
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"), (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"), (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)
# The code pages spreadsheets save "CSV" in when not asked for UTF-8 (Excel uses the system's ANSI code
# page; Excel for Mac's "CSV (Macintosh)" uses Mac Roman), in the order a tie is given to.
LEGACY = (
    ("cp1252", "Windows-1252 (Western European; Latin-1)"), ("cp1250", "Windows-1250 (Central European)"),
    ("cp1251", "Windows-1251 (Cyrillic)"), ("cp1253", "Windows-1253 (Greek)"),
    ("cp1254", "Windows-1254 (Turkish)"), ("cp1257", "Windows-1257 (Baltic)"),
    ("cp932", "Shift-JIS (Japanese)"), ("cp949", "EUC-KR/CP949 (Korean)"), ("gb18030", "GB18030 (Chinese)"),
    ("big5", "Big5 (Traditional Chinese)"), ("mac_roman", "Mac Roman"), ("cp1255", "Windows-1255 (Hebrew)"),
    ("cp1256", "Windows-1256 (Arabic)"), ("cp874", "Windows-874 (Thai)"), ("koi8_r", "KOI8-R (Cyrillic)"),
)
MOJIBAKE_SHARE = 0.05  # more odd characters than this among the non-ASCII ones: no code page reads it
TIE_SHARE = 0.01  # code pages this close to the cleanest reading are as good: the more common one wins
LEGACY_SAMPLE_BYTES = 1 << 20


@dataclass
class Record:
    line: int  # the first line of the file it came from (1-based)
    cells: list[str]
    last_line: int = 0  # the last, when a quoted value spans lines
    problem: str | None = None  # why it cannot be read: it is refused with this reason

    def lines(self) -> str:
        return f"lines {self.line}–{self.last_line}" if self.last_line > self.line else f"line {self.line}"

    def span(self) -> str:
        """" (lines 6–8)" for a record over several lines; "" for one line (the report already names it)."""
        return f" ({self.lines()})" if self.last_line > self.line else ""


@dataclass
class Table:
    header: list[str]
    records: Iterator[Record]
    delimiter: str = ","
    sample: list[list[str]] = field(default_factory=list)  # the first well-formed rows' cells
    notes: list[str] = field(default_factory=list)  # what was decided, for the summary


# ---- bytes → text -------------------------------------------------------------------------------------


def read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise CatalogError(f"cannot read {path}: {error}") from None
    return data


def _line_of(data: bytes, offset: int) -> int:
    return len(re.findall(rb"\r\n|\r|\n", data[:offset])) + 1


def decode(data: bytes, path: Path) -> tuple[str, str | None, bool]:
    """The text, a note on the encoding when it was not plain UTF-8, and whether some bytes were not
    UTF-8 (those are kept as lone surrogates, and the rows holding them are refused).

    CatalogError when no encoding reads it: the line of the first odd byte and what to convert from."""
    for bom, codec, label in BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec), (None if codec == "utf-8" else label), False
            except UnicodeDecodeError as error:
                raise CatalogError(f"{path}: starts with a {label} BOM but is not {label} text "
                                   f"(at byte {error.start + len(bom)}); save it again as UTF-8") from None
    try:
        return data.decode("utf-8"), None, False
    except UnicodeDecodeError as error:
        first_bad = error.start
    utf16 = _utf16_without_bom(data)
    if utf16:
        return utf16
    text = data.decode("utf-8", "surrogateescape")
    bad = len(re.findall("[\udc80-\udcff]", text))
    if len(re.findall("[^\x00-\x7f\udc80-\udcff]", text)) >= bad:  # UTF-8 with a few stray bytes
        return text, f"UTF-8 with {bad} bytes that are not UTF-8 (their rows are refused)", True
    return _legacy(data, path, first_bad)


def _utf16_without_bom(data: bytes) -> tuple[str, str, bool] | None:
    """UTF-16 without a BOM: ASCII text has a zero byte beside every character."""
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    half = len(data) // 2
    for zeros, codec, label in ((odd, "utf-16-le", "UTF-16 LE"), (even, "utf-16-be", "UTF-16 BE")):
        if zeros > half * 0.6:
            try:
                return data.decode(codec), f"{label} without a BOM", False
            except UnicodeDecodeError:
                return None
    return None


def _legacy(data: bytes, path: Path, first_bad: int) -> tuple[str, str | None, bool]:
    """The code page that reads the lines with non-ASCII bytes most cleanly (ties go to the more common
    one; a byte the code page lacks counts as garbled, and its row is refused), or CatalogError naming
    the closest one to convert from."""
    sample = _non_ascii_lines(data)
    scored = sorted((mojibake_share(sample.decode(codec, "surrogateescape")), order, codec, label)
                    for order, (codec, label) in enumerate(LEGACY))
    # A stray byte or two is no reason to leave the most common code page for a rarer one.
    best = scored[0][0]
    scored.sort(key=lambda s: (s[0] > best + TIE_SHARE, s[1]))
    share, _, codec, label = scored[0]
    if share > MOJIBAKE_SHARE:
        raise CatalogError(
            f"{path}: not UTF-8 text (byte 0x{data[first_bad]:02x} at line {_line_of(data, first_bad)}), and no "
            f"common encoding reads it (the closest, {label}, garbles {share:.0%} of its characters): binary data? "
            f"Otherwise convert it to UTF-8 first (e.g. iconv -f {codec} -t utf-8)")
    text = data.decode(codec, "surrogateescape")
    note = _legacy_note(sample, scored, codec, label)
    lacking = len(re.findall("[\udc80-\udcff]", text))  # e.g. 0x81, which Windows-1252 leaves unassigned
    if lacking:
        note += f"; {lacking} bytes that {label} does not have (their rows are refused)"
    return text, note, bool(lacking)


def _non_ascii_lines(data: bytes) -> bytes:
    """The file's lines that hold bytes above 0x7F, up to LEGACY_SAMPLE_BYTES of them."""
    lines, size = [], 0
    for line in re.split(rb"\r\n|\r|\n", data):
        if max(line, default=0) > 0x7F:
            lines.append(line)
            size += len(line)
            if size > LEGACY_SAMPLE_BYTES:
                break
    return b"\n".join(lines)


def _legacy_note(sample: bytes, scored: list[tuple[float, int, str, str]], codec: str, label: str) -> str:
    """What the summary says: the encoding, and the runner-up when it would read the text differently."""
    note = f"not UTF-8: read as {label}"
    text = sample.decode(codec, "surrogateescape")
    best = min(s[0] for s in scored)
    for share, _, other, other_label in scored[1:]:
        if share > best + TIE_SHARE:
            break
        alternative = sample.decode(other, "surrogateescape")
        if alternative != text:
            i = next(i for i, (a, b) in enumerate(zip(text, alternative, strict=False)) if a != b)
            ours, theirs = (re.findall(r"\S*$", t[:i])[0] + re.findall(r"^\S*", t[i:])[0] for t in (text, alternative))
            note += (f"; as {other_label} {ours!r} would be {theirs!r}: if titles look wrong, convert the file "
                     f"to UTF-8 first (e.g. iconv -f {other} -t utf-8)")
            break
    return note


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0].split("-", 1)[0]
    if first in ("HIRAGANA", "KATAKANA", "CJK", "IDEOGRAPHIC", "FULLWIDTH"):
        return "CJK"
    return first


ODD_CATEGORIES = {"Cc", "Co", "Cn", "Cs"}
GLUED_CATEGORIES = {"So", "Sm", "Sk", "Sc", "No", "Po", "Ps", "Pe"}
WORD_PUNCTUATION = set("’‘´ʼ·…")


def mojibake_share(text: str) -> float:
    """The share of non-ASCII characters that real text rarely has: controls and unassigned code points,
    symbols glued between letters ('Bj÷rk'), an accented capital after a small letter ('CafÈ'), half-width
    katakana, letters of two scripts in one word ('Bjцrk'), runs of accented letters ('Êèíî')."""
    odd = len(re.findall(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", text))
    total = 0
    for match in re.finditer(r"[^\x00-\x7f]", text):
        total += 1
        i = match.start()
        odd += _odd_char(match.group(), text[i - 1] if i else " ", text[i + 1] if i + 1 < len(text) else " ")
    odd += sum(_odd_letters(word) for word in re.findall(r"[^\W\d_]+", text) if not word.isascii())
    return odd / max(total, 1)


def _odd_letters(word: str) -> int:
    """The word's non-ASCII letters when it mixes scripts ('Bjцrk'), else those that stand third or
    later in a run of accented Latin letters ('Êèíî': Cyrillic read as Latin)."""
    if _mixed_scripts(word):
        return sum(1 for c in word if not c.isascii())
    odd = run = 0
    for char in word:
        run = run + 1 if not char.isascii() and _script(char) == "LATIN" else 0
        odd += run >= 3
    return odd


def _odd_char(char: str, before: str, after: str) -> bool:
    category = unicodedata.category(char)
    if category in ODD_CATEGORIES or "\u2500" <= char <= "\u259f" or "HALFWIDTH KATAKANA" in unicodedata.name(char, ""):
        return True  # controls, unassigned, box drawing and blocks (KOI8/CP437 read wrongly), half-width kana
    glued = (category in GLUED_CATEGORIES and char not in WORD_PUNCTUATION and before.isalpha() and after.isalpha()
             and not "\u3000" <= char <= "\u30ff" and not "\uff00" <= char <= "\uffef")  # 「君」 is Japanese
    return glued or (category == "Lu" and before.islower())


def _mixed_scripts(word: str) -> bool:
    scripts = {_script(c) for c in word if not c.isascii()}
    if word != "".join(c for c in word if not c.isascii()):
        scripts.add("LATIN")
    scripts.discard("")
    if scripts == {"CJK", "LATIN"} and all(c.isascii() or _script(c) == "CJK" for c in word):
        return False  # "恋はDeep": ASCII words run into Japanese ones
    return len(scripts) > 1


# ---- text → records -----------------------------------------------------------------------------------


class _Dialect(csv.Dialect):
    delimiter = ","
    quotechar = '"'  # never "'": only a double quote quotes in the spreadsheets people export
    doublequote = True
    skipinitialspace = False
    lineterminator = "\r\n"
    quoting = csv.QUOTE_MINIMAL
    strict = False


def _dialect(delimiter: str, skip_space: bool = False) -> type[csv.Dialect]:
    return type("Read", (_Dialect,), {"delimiter": delimiter, "skipinitialspace": skip_space})


def _sep_line(text: str) -> tuple[str, int] | None:
    """Excel's `sep=;` first line (also quoted or followed by delimiters, as re-saved files have it):
    the delimiter and where the next line starts."""
    match = re.match(r'"?sep=([^\w"\s]|\t)"?[,;\t|]*(\r\n|\r|\n|$)', text[:40], re.IGNORECASE)
    return (match.group(1), match.end()) if match else None


def _guess_delimiter(head: str) -> str:
    """The delimiter that gives the header's width (at least 2) to most of the first rows."""
    best: tuple[float, int, int] = (0.0, 0, 0)
    chosen = ","
    for order, delimiter in enumerate(DELIMITERS):
        rows = [r for r in islice(csv.reader(io.StringIO(head, newline=""), _dialect(delimiter)), 200) if r]
        if not rows:
            continue
        width = _width(rows[0])
        if width < 2:
            continue
        data = rows[1:-1] or rows[1:]  # the last row of the sample may be cut short
        fits = sum(1 for r in data if _fit(r, width) is not None) / len(data) if data else 1.0
        score = (fits, width, -order)
        if score > best:
            best, chosen = score, delimiter
    return chosen


def _named(delimiter: str) -> str:
    return DELIMITER_NAMES.get(delimiter, repr(delimiter))


def _width(header: list[str]) -> int:
    """The header's width, trailing unnamed columns aside (spreadsheets often add empty ones)."""
    width = len(header)
    while width and not header[width - 1].strip():
        width -= 1
    return width


def _fit(cells: list[str], width: int) -> list[str] | None:
    """The cells cut to the header's width when the extra ones are empty; None when they do not fit."""
    if len(cells) == width:
        return cells
    if len(cells) > width and not any(c.strip() for c in cells[width:]):
        return cells[:width]
    return None


def read_table(path: Path) -> Table:
    """The file's header and records, with what was decided about it in notes; CatalogError when it
    cannot be read as a table at all."""
    text, encoding_note, stray_bytes = decode(read_bytes(path), path)
    if not text.strip():
        raise CatalogError(f"{path}: the file is empty")
    notes = [encoding_note] if encoding_note else []
    offset, first_line = 0, 1
    sep = _sep_line(text)
    if sep:
        delimiter, offset = sep
        notes.append(f"delimiter {_named(delimiter)} (from its sep= line)")
        first_line = 2
    else:
        delimiter = _guess_delimiter(text[:65536])
    reader = _RecordReader(text, offset, first_line, delimiter, stray_bytes)
    header = reader.header(path)
    records = iter(reader)
    head = list(islice(records, SAMPLE_ROWS))
    sample = [r.cells for r in head if r.problem is None]
    return Table(header=header, records=chain(head, records), delimiter=delimiter, sample=sample, notes=notes)


class _RecordReader:
    """Records of the header's width with their line numbers; the others carry a problem."""

    def __init__(self, text: str, offset: int, first_line: int, delimiter: str, stray_bytes: bool) -> None:
        self.text = text
        self.first_line = first_line
        head = re.split(r"\r\n|\r|\n", text[offset : offset + 4096], maxsplit=1)[0]
        # "artist, title, valence": a space after every delimiter of the header is part of the format
        skip_space = delimiter in ",;" and 0 < head.count(delimiter) == head.count(delimiter + " ")
        self.dialect = _dialect(delimiter, skip_space)
        self.reader = csv.reader(io.StringIO(text[offset:], newline=""), self.dialect)
        self.check_text = stray_bytes or "\x00" in text
        self.width = 0

    def header(self, path: Path) -> list[str]:
        for record in self._raw():
            if record.problem is None and any(c.strip() for c in record.cells):
                self.width = _width(record.cells)
                return [c.lstrip("\ufeff").strip() for c in record.cells[: self.width]]
        raise CatalogError(f"{path}: no header line")

    def _raw(self) -> Iterator[Record]:
        reader, shift = self.reader, self.first_line - 1
        line = reader.line_num
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:  # a value over the field limit: an unbalanced quote ran away
                record = Record(line + 1 + shift, [], reader.line_num + shift)
                record.problem = f"unreadable ({error}){record.span()}; check the quotes"
                yield record
            else:
                yield Record(line + 1 + shift, cells, reader.line_num + shift)
            line = reader.line_num

    def __iter__(self) -> Iterator[Record]:
        for record in self._raw():
            if record.problem is None and not any(c.strip() for c in record.cells):
                continue  # a blank line, or one of only delimiters
            if record.problem is None:
                record.problem = self._problem(record)
            yield record

    def _problem(self, record: Record) -> str | None:
        fitted = _fit(record.cells, self.width)
        if fitted is None:
            return self._width_problem(record)
        record.cells = fitted
        if record.last_line > record.line:
            swallowed = self._swallowed(record)
            if swallowed:
                return (f"a quoted value runs over {record.lines()} and holds {swallowed} line(s) shaped like "
                        "rows: an unbalanced \" swallowed them; check the quotes there")
        if self.check_text:
            return _text_problem(record.cells)
        return None

    def _width_problem(self, record: Record) -> str:
        count = len(record.cells)
        if count < self.width:
            return f"only {count} fields, the header has {self.width} (missing columns){record.span()}"
        hint = f"an unquoted {_named(self.dialect.delimiter)} inside a value?"
        return f"{count} fields, the header has {self.width} ({hint}){record.span()}"

    def _swallowed(self, record: Record) -> int:
        """How many lines inside the record's multi-line values are shaped like rows of their own.

        A value that an unbalanced quote opened holds the rest of its own row, whole rows, and the start
        of the row where a quote closes it. So a line in the middle of such a value is row-shaped when it
        has the header's width; its first line when it completes the cells before the value; its last
        line when the cells after the value complete it. A genuine multi-line title has none of these,
        or the first or last alone (a line break after "a, b, c")."""
        shaped = 0
        for index, value in enumerate(record.cells):
            if "\n" not in value and "\r" not in value:
                continue
            lines = [line.rstrip("\r\n") for line in io.StringIO(value, newline="").readlines()]
            widths = [len(next(csv.reader([line], self.dialect), [])) or 1 for line in lines]
            middle = sum(1 for w in widths[1:-1] if w == self.width)
            ends = widths[0] + index == self.width and widths[-1] + len(record.cells) - index - 1 == self.width
            shaped += middle + 2 * ends
        return shaped


def _text_problem(cells: list[str]) -> str | None:
    joined = "".join(cells)
    if "\x00" in joined:
        return "holds a NUL byte (binary data?)"
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError as error:
        byte = ord(joined[error.start]) - 0xDC00
        return f"holds a byte (0x{byte:02x}) that the file's encoding does not have; fix that line or its encoding"
    return None


