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
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import BinaryIO

from device.errors import CatalogError

DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SAMPLE_ROWS = 1000  # the rows that per-column decisions (decimal mark, percentages) are taken from
SAMPLE_CHARS = 4 << 20  # … and no more characters than this in them
# A file is read in chunks, and no line is ever held whole past this: a spreadsheet row is far shorter,
# and a longer one (a file that is no table, a runaway export) is refused naming its line and length.
LINE_LIMIT = 1 << 20  # characters
CHUNK_BYTES = 1 << 20
HEAD_CHARS = 65536  # what the delimiter is guessed from

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


@dataclass
class Encoding:
    """How to read a file's bytes as text: `codec` with `errors` after `skip` bytes (a BOM); `note` for the
    summary when not plain UTF-8; `stray_bytes` when some bytes are not of the encoding (kept as lone
    surrogates, their rows refused); `nul` when the file holds a NUL byte."""

    codec: str = "utf-8"
    errors: str = "strict"
    note: str | None = None
    stray_bytes: bool = False
    skip: int = 0
    nul: bool = False


Opener = Callable[[], BinaryIO]  # a fresh binary stream of the file's (decompressed) bytes, from the start


def file_opener(path: Path) -> Opener:
    """Opens `path`, gunzipped when it starts with gzip's magic bytes (CatalogError when it cannot be
    opened; errors in its bytes come when they are read, `read_chunks`)."""

    def opened() -> BinaryIO:
        try:
            with path.open("rb") as raw:
                zipped = raw.read(2) == b"\x1f\x8b"
            return gzip.open(path, "rb") if zipped else path.open("rb")  # type: ignore[return-value]
        except OSError as error:
            raise CatalogError(f"cannot read {path}: {error}") from None

    return opened


def read_chunks(stream: BinaryIO, path: Path) -> Iterator[bytes]:
    """The stream's bytes, CHUNK_BYTES at a time; CatalogError when it cannot be read (a broken gzip)."""
    with stream:
        while True:
            try:
                chunk = stream.read(CHUNK_BYTES)
            except (OSError, EOFError, zlib.error) as error:
                raise CatalogError(f"cannot read {path}: {error or type(error).__name__}") from None
            if not chunk:
                return
            yield chunk


def read_bytes(path: Path) -> bytes:
    """The whole file, gunzipped (for small files only: a table is read in chunks, `read_table`)."""
    return b"".join(read_chunks(file_opener(path)(), path))


@dataclass
class _Survey:
    """What one pass over a file's bytes finds, for choosing how to decode it."""

    size: int = 0
    zeros: list[int] = field(default_factory=lambda: [0, 0])  # zero bytes at even and odd offsets
    nul: bool = False
    bad: int = 0  # bytes that are not UTF-8
    non_ascii: int = 0  # UTF-8 characters above U+007F
    first_bad: tuple[int, int, int] | None = None  # (its byte, its offset, its line) of the first bad byte
    breaks: int = 0  # line breaks before the first bad byte (all of them when there is none)
    sample: list[bytes] = field(default_factory=list)  # lines with bytes above 0x7F, LEGACY_SAMPLE_BYTES
    sample_size: int = 0
    tail: bytes = b""  # the last, unfinished line of the chunks so far (for the sample)
    ended_cr: bool = False

    def add(self, chunk: bytes, text: str) -> None:
        """Count one chunk and its text as UTF-8 (with the bad bytes as lone surrogates)."""
        zeros, even = chunk.count(0), chunk[self.size % 2 :: 2].count(0)
        self.zeros[0] += even
        self.zeros[1] += zeros - even
        self.nul = self.nul or zeros > 0
        if self.first_bad is None:
            # a "\r\n" split between two chunks is one line break
            self.breaks += _breaks(chunk) - (self.ended_cr and chunk[:1] == b"\n")
        self.ended_cr = chunk[-1:] == b"\r"
        if not text.isascii():
            self._count(chunk, text)
        if self.sample_size < LEGACY_SAMPLE_BYTES:
            self._sample(chunk)
        self.size += len(chunk)

    def _count(self, chunk: bytes, text: str) -> None:
        bad = _STRAY.findall(text)
        self.bad += len(bad)
        self.non_ascii += len(text) - len(text.encode("ascii", "ignore")) - len(bad)
        if bad and self.first_bad is None:
            at = _STRAY.search(text).start()  # type: ignore[union-attr]
            offset = len(text[:at].encode("utf-8", "surrogateescape"))
            self.breaks += _breaks(chunk[:offset]) - _breaks(chunk)
            self.first_bad = (ord(text[at]) - 0xDC00, self.size + offset, self.breaks + 1)

    def _sample(self, chunk: bytes) -> None:
        if chunk.isascii() and self.tail.isascii():
            self.tail = re.split(rb"\r\n|\r|\n", chunk[-4096:])[-1]
            return
        lines = re.split(rb"\r\n|\r|\n", self.tail + chunk)
        self.tail = lines.pop()[-LINE_LIMIT:]
        for line in lines:
            if not line.isascii() and self.sample_size < LEGACY_SAMPLE_BYTES:
                self.sample.append(line)
                self.sample_size += len(line)


_STRAY = re.compile("[\udc80-\udcff]")


def _breaks(data: bytes) -> int:
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _survey(opener: Opener, path: Path) -> tuple[bytes, _Survey]:
    """The file's first bytes and what one pass over it found."""
    survey, first = _Survey(), b""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    for chunk in read_chunks(opener(), path):
        if len(first) < 4:
            first += chunk[: 4 - len(first)]
        survey.add(chunk, decoder.decode(chunk))
    rest = decoder.decode(b"", final=True)  # an unfinished sequence at the end: bad bytes
    if rest:
        survey.add(b"", rest)
    if survey.sample_size < LEGACY_SAMPLE_BYTES and not survey.tail.isascii():
        survey.sample.append(survey.tail)
    return first, survey


def choose_encoding(opener: Opener, path: Path) -> Encoding:
    """How to decode the file, from one pass over its bytes (a second only for a BOM other than UTF-8's,
    UTF-16 without one, or a legacy code page): a BOM; UTF-8; UTF-16 without a BOM; UTF-8 with a few
    stray bytes; else the legacy code page that reads it most cleanly.

    CatalogError when no encoding reads it: the line of the first odd byte and what to convert from."""
    first, survey = _survey(opener, path)
    nul = survey.nul
    for bom, codec, label in BOMS:
        if first.startswith(bom):
            if codec == "utf-8":
                error_at = survey.first_bad[1] if survey.first_bad else None
            else:
                error_at = _first_error(opener, path, codec, len(bom))
            if error_at is not None:
                raise CatalogError(f"{path}: starts with a {label} BOM but is not {label} text "
                                   f"(at byte {error_at}); save it again as UTF-8")
            if codec != "utf-8":  # its zero bytes are halves of characters
                return Encoding(codec, "strict", label, skip=len(bom))
            return Encoding(codec, "strict", None, skip=len(bom), nul=nul)
    if survey.first_bad is None:
        return Encoding(nul=nul)
    utf16 = _utf16_without_bom(opener, path, survey)
    if utf16:
        return utf16
    if survey.non_ascii >= survey.bad:  # UTF-8 with a few stray bytes
        return Encoding("utf-8", "surrogateescape", f"UTF-8 with {survey.bad} bytes that are not UTF-8 (their rows "
                        "are refused)", True, nul=nul)
    return _legacy(opener, path, survey)


def _first_error(opener: Opener, path: Path, codec: str, skip: int) -> int | None:
    """The offset of the first byte that `codec` cannot read after `skip` bytes, or None."""
    decoder, offset = codecs.getincrementaldecoder(codec)("strict"), 0
    try:
        for chunk in read_chunks(opener(), path):
            part = chunk[max(skip - offset, 0):]
            offset += len(chunk) - len(part)
            decoder.decode(part)
            offset += len(part)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        return offset + error.start  # the start of the chunk, less what the decoder still held
    return None


def _utf16_without_bom(opener: Opener, path: Path, survey: _Survey) -> Encoding | None:
    """UTF-16 without a BOM: ASCII text has a zero byte beside every character."""
    if survey.size < 4 or survey.size % 2:
        return None
    even, odd = survey.zeros
    half = survey.size // 2
    for zeros, codec, label in ((odd, "utf-16-le", "UTF-16 LE"), (even, "utf-16-be", "UTF-16 BE")):
        if zeros > half * 0.6:
            if _first_error(opener, path, codec, 0) is not None:
                return None
            return Encoding(codec, "strict", f"{label} without a BOM")
    return None


def _legacy(opener: Opener, path: Path, survey: _Survey) -> Encoding:
    """The code page that reads the lines with non-ASCII bytes most cleanly (ties go to the more common
    one; a byte the code page lacks counts as garbled, and its row is refused), or CatalogError naming
    the closest one to convert from."""
    sample = b"\n".join(survey.sample)
    scored = sorted((mojibake_share(sample.decode(codec, "surrogateescape")), order, codec, label)
                    for order, (codec, label) in enumerate(LEGACY))
    # A stray byte or two is no reason to leave the most common code page for a rarer one.
    best = scored[0][0]
    scored.sort(key=lambda s: (s[0] > best + TIE_SHARE, s[1]))
    share, _, codec, label = scored[0]
    if share > MOJIBAKE_SHARE:
        byte, _, line = survey.first_bad or (0, 0, 0)
        raise CatalogError(
            f"{path}: not UTF-8 text (byte 0x{byte:02x} at line {line}), and no common encoding reads it "
            f"(the closest, {label}, garbles {share:.0%} of its characters): binary data? Otherwise convert it "
            f"to UTF-8 first (e.g. iconv -f {codec} -t utf-8)")
    note = _legacy_note(sample, scored, codec, label)
    decoder, lacking = codecs.getincrementaldecoder(codec)("surrogateescape"), 0
    for chunk in read_chunks(opener(), path):  # bytes the code page leaves unassigned (0x81 in Windows-1252)
        lacking += len(_STRAY.findall(decoder.decode(chunk)))
    lacking += len(_STRAY.findall(decoder.decode(b"", final=True)))
    if lacking:
        note += f"; {lacking} bytes that {label} does not have (their rows are refused)"
    return Encoding(codec, "surrogateescape", note, bool(lacking), nul=survey.nul)


def decode(data: bytes, path: Path) -> tuple[str, str | None, bool]:
    """Bytes held whole (a cue sheet): the text, a note on the encoding when it was not plain UTF-8, and
    whether some bytes were not of the encoding (kept as lone surrogates; the rows holding them are
    refused). Chosen as `choose_encoding` chooses; CatalogError when no encoding reads it."""
    encoding = choose_encoding(lambda: io.BytesIO(data), path)
    return data[encoding.skip:].decode(encoding.codec, encoding.errors), encoding.note, encoding.stray_bytes


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
            ours, theirs = (re.findall(r"\S{0,30}$", t[:i])[0] + re.findall(r"^\S{0,30}", t[i:])[0]
                            for t in (text, alternative))  # the word, or 60 characters of a long one
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
    """The file's header and records (read as they are consumed: memory does not grow with the file),
    with what was decided about it in notes; CatalogError when it cannot be read as a table at all."""
    opener = file_opener(path)
    encoding = choose_encoding(opener, path)
    with _text(opener, encoding) as stream:
        head = stream.read(HEAD_CHARS)
    if not head.strip() and len(head) < HEAD_CHARS:
        raise CatalogError(f"{path}: the file is empty")
    notes = [encoding.note] if encoding.note else []
    offset, first_line = 0, 1
    sep = _sep_line(head)
    if sep:
        delimiter, offset = sep
        notes.append(f"delimiter {_named(delimiter)} (from its sep= line)")
        first_line = 2
    else:
        delimiter = _guess_delimiter(head)
    stream = _text(opener, encoding)
    stream.read(offset)
    reader = _RecordReader(stream, head[offset:], first_line, delimiter, encoding.stray_bytes or encoding.nul)
    try:
        header = reader.header(path)
    except BaseException:
        stream.close()
        raise
    records = iter(reader)
    sampled, sample, size = [], [], 0
    for record in records:  # the first rows, for per-column decisions: at most SAMPLE_ROWS, SAMPLE_CHARS
        sampled.append(record)
        if record.problem is None:
            sample.append(record.cells)
            size += sum(len(c) for c in record.cells)
        if len(sampled) >= SAMPLE_ROWS or size >= SAMPLE_CHARS:
            break
    return Table(header=header, records=chain(sampled, records), delimiter=delimiter, sample=sample, notes=notes)


def _text(opener: Opener, encoding: Encoding) -> io.TextIOWrapper:
    """The file as text (line endings as written, for the csv module), after its BOM."""
    binary = opener()
    binary.read(encoding.skip)
    return io.TextIOWrapper(binary, encoding=encoding.codec, errors=encoding.errors, newline="")


class _Lines:
    """The text's lines for csv.reader, counted, none over LINE_LIMIT characters: a longer one is read in
    pieces, counted, dropped, and stands as a blank line; `long` names it for the record it was in."""

    def __init__(self, stream: io.TextIOWrapper, first_line: int) -> None:
        self.stream = stream
        self.number = first_line - 1  # the last line handed out
        self.long: tuple[int, int] | None = None  # (line, length) of a dropped line

    def __iter__(self) -> Iterator[str]:
        readline, limit = self.stream.readline, LINE_LIMIT + 1
        with self.stream:
            while line := readline(limit):
                self.number += 1
                if len(line) == limit and line[-1] not in "\r\n":
                    line = self._drop(line)
                yield line

    def _drop(self, start: str) -> str:
        length = len(start)
        while True:
            piece = self.stream.readline(LINE_LIMIT)
            length += len(piece)
            if not piece or piece[-1] in "\r\n":
                length -= len(piece) - len(piece.rstrip("\r\n"))
                break
        if self.long is None:
            self.long = (self.number, length)
        return "\n"


_DROPPED: list[str] = []  # the cells of a record that held a line over LINE_LIMIT


class _RecordReader:
    """Records of the header's width with their line numbers; the others carry a problem."""

    def __init__(self, stream: io.TextIOWrapper, head: str, first_line: int, delimiter: str, check_text: bool) -> None:
        first = re.split(r"\r\n|\r|\n", head[:4096], maxsplit=1)[0]
        # "artist, title, valence": a space after every delimiter of the header is part of the format
        skip_space = delimiter in ",;" and 0 < first.count(delimiter) == first.count(delimiter + " ")
        self.dialect = _dialect(delimiter, skip_space)
        self.lines = _Lines(stream, first_line)
        self.reader = csv.reader(iter(self.lines), self.dialect)
        self.check_text = check_text
        self.width = 0

    def header(self, path: Path) -> list[str]:
        for record in self._raw():
            if record.cells is _DROPPED:
                said = (record.problem or "").removesuffix("; not read")
                raise CatalogError(f"{path}: line {record.line}, where the header should be, is {said}: is it a "
                                   "table? (a header names the columns, e.g. artist,title,valence)")
            if record.problem is None and any(c.strip() for c in record.cells):
                self.width = _width(record.cells)
                return [c.lstrip("\ufeff").strip() for c in record.cells[: self.width]]
        raise CatalogError(f"{path}: no header line")

    def _raw(self) -> Iterator[Record]:
        lines, reader = self.lines, self.reader
        while True:
            start = lines.number + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:  # a value over the field limit: an unbalanced quote ran away
                record = Record(start, [], lines.number)
                record.problem = f"unreadable ({error}){record.span()}; check the quotes"
            else:
                record = Record(start, cells, lines.number)
            if lines.long is not None:  # never echoed: it may be megabytes of anything
                line, length = lines.long
                lines.long = None
                record.cells = _DROPPED
                record.problem = (f"{'' if line == start else f'line {line} is '}{length:,} characters long (a line "
                                  f"may have {LINE_LIMIT:,}); not read")
            yield record

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


