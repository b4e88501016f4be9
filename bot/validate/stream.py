"""The bytes of a field file, streamed once: gunzip with bomb limits, md5, and the CSV text rules.

pyarrow's CSV reader hides what the text looked like (line endings, encoding, which line a row came from).
``FieldText`` sits between the file and the reader: it hands pyarrow whole lines, and on the way notes
what the columnar reader cannot: lone CRs, mixed line endings and bytes that are not UTF-8, each with its
physical line (header = line 1). With no quoting, every line is one pyarrow row (a blank line is a row
of empty cells), except lines whose cell count differs from the header's, which pyarrow skips; a careful
pass (``careful=True``) lists those lines so the engine can map rows back to lines.

What pyarrow is given is the file's text with two repairs that never change a verdict: a lone CR becomes
a space (so it cannot split a line) and undecodable bytes become U+FFFD (so the reader cannot fail on
them). The md5 and size are of the original bytes; the file itself is never written.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from bot.config import ValidationSettings

_PIECE = 1 << 20  # compressed bytes read at a time
_HEADER_LIMIT = 1 << 20
_BOMB_FLOOR = 1 << 16  # compressed bytes below which the ratio is not judged yet
_LONE_CR = re.compile(rb"\r(?!\n)")
_LF_AFTER_CRLF = "this line ends in LF but the header in CRLF; use one line ending throughout"
_BARE_LF = re.compile(rb"(?<!\r)\n")


class StreamFailure(Exception):
    """Reading cannot go on (corrupt gzip, a decompression bomb, a file over the size limit)."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


@dataclass
class TextNote:
    """A text rule broken somewhere in the file: its first line and how many lines break it."""

    code: str
    line: int
    message: str
    count: int = 1


class _PlainSource:
    def __init__(self, raw: BinaryIO, limit: int | None) -> None:
        self.raw = raw
        self.limit = limit
        self.out = 0

    @property
    def consumed(self) -> int:
        return self.out

    def read(self, n: int) -> bytes:
        data = self.raw.read(n)
        self.out += len(data)
        if self.limit is not None and self.out > self.limit:
            raise StreamFailure(
                "too-large", f"the file is larger than the limit of {self.limit:,} bytes "
                "(validation.max_file_bytes); split the field or raise the limit in release-config.yaml",
            )
        return data


class _GzipSource:
    """Decompress as the reader asks, never more than it asks for, and refuse bombs early."""

    def __init__(self, raw: BinaryIO, settings: ValidationSettings) -> None:
        self.raw = raw
        self.ratio = settings.max_gzip_ratio
        self.limit = settings.max_file_bytes
        self.d = zlib.decompressobj(31)
        self.fed = 0
        self.out = 0
        self.members = 0

    @property
    def consumed(self) -> int:
        return self.fed - len(self.d.unconsumed_tail) - len(self.d.unused_data)

    def read(self, n: int) -> bytes:
        try:
            while True:
                if self.d.unconsumed_tail:
                    data = self.d.decompress(self.d.unconsumed_tail, n)
                elif self.d.eof:
                    rest = self.d.unused_data or self._more()
                    if not rest:
                        return b""
                    self.d = zlib.decompressobj(31)  # another gzip member follows (concatenated .gz)
                    data = self.d.decompress(rest, n)
                else:
                    raw = self._more()
                    if not raw:
                        raise StreamFailure(
                            "gzip-corrupt", "the gzip stream ends before its end marker (a truncated file?); "
                            "compress the CSV again with gzip and re-upload it",
                        )
                    data = self.d.decompress(raw, n)
                if data:
                    self.out += len(data)
                    self._check_bomb()
                    return data
        except zlib.error as exc:
            raise StreamFailure(
                "gzip-corrupt", f"the gzip data is corrupt ({exc}); compress the CSV again with gzip",
            ) from None

    def _more(self) -> bytes:
        raw = self.raw.read(_PIECE)
        self.fed += len(raw)
        return raw

    def _check_bomb(self) -> None:
        if self.limit is not None and self.out > self.limit:
            raise StreamFailure(
                "gzip-bomb", f"the file decompresses to more than {self.limit:,} bytes "
                "(validation.max_file_bytes); split the field or raise the limit",
            )
        if self.out > self.ratio * max(self.consumed, _BOMB_FLOOR):
            raise StreamFailure(
                "gzip-bomb", f"the file decompresses more than {self.ratio}x "
                "(validation.max_gzip_ratio); a real field compresses about 5x, so this looks like a "
                "decompression bomb: upload the plain CSV or a normally gzipped one",
            )


class FieldText:
    """A read-only, line-aligned byte stream over a field file for ``pyarrow.csv.open_csv``."""

    closed = False

    def __init__(
        self,
        raw: BinaryIO,
        *,
        gzipped: bool,
        settings: ValidationSettings,
        on_progress: Callable[[int], None] | None = None,
        careful: bool = False,
    ) -> None:
        self._source = _GzipSource(raw, settings) if gzipped else _PlainSource(raw, settings.max_file_bytes)
        self._pending = b""
        self._eof = False
        self._md5 = hashlib.md5()
        self.size = 0
        self.line = 0  # physical lines handed out so far (the header is line 1)
        self.crlf = False  # the header's line ending decides the file's
        self.cells: int | None = None  # the header's cell count, once known
        self.short_lines: list[tuple[int, int]] = []  # (line, cells) where cells != the header's
        self.notes: dict[str, TextNote] = {}
        self.failure: StreamFailure | None = None
        self.careful = careful  # count the cells of every line, to locate those pyarrow refused
        self._on_progress = on_progress

    # -- the file-like surface pyarrow uses -----------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True

    def read(self, n: int = -1) -> bytes:
        try:
            return self._read(n if n and n > 0 else 1 << 24)
        except StreamFailure as exc:
            self.failure = exc
            raise

    @property
    def md5(self) -> str:
        return self._md5.hexdigest()

    def at_end(self) -> bool:
        """True when nothing follows what was read so far (reads ahead a little to know)."""
        try:
            while not self._pending and not self._eof:
                self._fill(_PIECE)
        except StreamFailure as exc:
            self.failure = exc
            raise
        return not self._pending

    # -- header ---------------------------------------------------------------------------------------
    def read_header(self) -> bytes | None:
        """The first line without its line ending; None for an empty file."""
        try:
            while b"\n" not in self._pending and not self._eof and len(self._pending) <= _HEADER_LIMIT:
                self._fill(_PIECE)
        except StreamFailure as exc:
            self.failure = exc
            raise
        if self.size == 0:
            return None
        end = self._pending.find(b"\n")
        if end < 0:
            if len(self._pending) > _HEADER_LIMIT:
                raise StreamFailure("bad-header", "the first line is over 1 MiB long: this is not a field CSV", 1)
            end = len(self._pending)
        header, self._pending = self._pending[:end], self._pending[end + 1:]
        self.crlf = header.endswith(b"\r")
        self.line = 1
        return header[:-1] if self.crlf else header

    def expect_cells(self, cells: int) -> None:
        self.cells = cells

    # -- the stream -----------------------------------------------------------------------------------
    def _fill(self, want: int) -> None:
        data = self._source.read(max(want, 1 << 16))
        if not data:
            self._eof = True
            return
        self._md5.update(data)
        self.size += len(data)
        self._pending += data
        if self._on_progress:
            self._on_progress(self._source.consumed)

    def _read(self, n: int) -> bytes:
        while len(self._pending) < n and not self._eof:
            self._fill(n - len(self._pending))
        if not self._pending:
            return b""
        if self._eof and len(self._pending) <= n:
            chunk, self._pending = self._pending, b""
            return self._checked(chunk, final=True)
        cut = self._pending.rfind(b"\n", 0, n) + 1
        if cut == 0:  # pyarrow cannot parse a row longer than its block either
            raise StreamFailure(
                "line-too-long", f"this line is longer than {n:,} bytes (a field row is about 500): "
                "the file is not a field CSV, or its line endings are missing", self.line + 1,
            )
        chunk, self._pending = self._pending[:cut], self._pending[cut:]
        return self._checked(chunk, final=False)

    def _checked(self, chunk: bytes, *, final: bool) -> bytes:
        """Scan one chunk of whole lines, note what breaks the text rules, and repair it for pyarrow."""
        first_line = self.line + 1
        newlines = chunk.count(b"\n")
        if b"\r" in chunk:
            chunk = self._line_endings(chunk, first_line)
        elif self.crlf and newlines:
            self._note("mixed-line-endings", first_line, _LF_AFTER_CRLF, newlines)
        if not chunk.isascii():
            chunk = self._utf8(chunk, first_line)
        if self.cells is not None:
            self._cell_counts(chunk, first_line, final)
        self.line += newlines
        if final and not chunk.endswith(b"\n"):
            self.line += 1
        return chunk

    def _line_endings(self, chunk: bytes, first_line: int) -> bytes:
        crlf = chunk.count(b"\r\n")
        if chunk.count(b"\r") > crlf:
            lone = [m.start() for m in _LONE_CR.finditer(chunk)]
            self._note(
                "bad-line-ending", first_line + chunk.count(b"\n", 0, lone[0]),
                "a line ending is a lone CR (old Mac style); end lines with LF as pandas does", len(lone),
            )
            chunk = _LONE_CR.sub(b" ", chunk)
        if self.crlf:
            bare = list(_BARE_LF.finditer(chunk))
            if bare:
                self._note(
                    "mixed-line-endings", first_line + chunk.count(b"\n", 0, bare[0].start()), _LF_AFTER_CRLF,
                    len(bare),
                )
        elif crlf:
            at = chunk.find(b"\r\n")
            self._note(
                "mixed-line-endings", first_line + chunk.count(b"\n", 0, at),
                "this line ends in CRLF but the header in LF; use one line ending throughout", crlf,
            )
        return chunk

    def _utf8(self, chunk: bytes, first_line: int) -> bytes:
        try:
            chunk.decode("utf-8")
            return chunk
        except UnicodeDecodeError as exc:
            self._note(
                "not-utf8", first_line + chunk.count(b"\n", 0, exc.start),
                f"byte 0x{chunk[exc.start]:02x} is not UTF-8 text; save the file as UTF-8",
            )
            return chunk.decode("utf-8", "replace").encode("utf-8")

    def _cell_counts(self, chunk: bytes, first_line: int, final: bool) -> None:
        """Careful pass only: the cell count of every line, to locate the lines pyarrow refused.

        The fast pass leaves this to pyarrow, which counts cells anyway: when it refuses a line, the engine
        reads the file again with ``careful=True``. Blank lines are not located here: pyarrow reads them as
        rows of empty cells and the engine recognises those rows.
        """
        if not self.careful:
            return
        pieces = chunk.split(b"\n")
        rest = pieces.pop()
        if final and rest:
            pieces.append(rest)
        for i, piece in enumerate(pieces):
            cells = piece.count(b",") + 1
            if cells != self.cells and piece not in (b"", b"\r"):
                self.short_lines.append((first_line + i, cells))

    def _note(self, code: str, line: int, message: str, count: int = 1) -> None:
        note = self.notes.get(code)
        if note is None:
            self.notes[code] = TextNote(code, line, message, count)
        else:
            note.count += count
