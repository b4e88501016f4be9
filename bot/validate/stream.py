"""The bytes of a field file, streamed once: gunzip with bomb limits, md5, and the CSV text rules.

``FieldText`` reads the file into a few reused buffers and hands the engine chunks of whole records
(RFC 4180: a quoted cell may hold a line feed, so a record may span lines). On the way it notes what a
columnar reader cannot: lone CRs, mixed line endings and bytes that are not UTF-8, each with its physical
line (header = line 1). It hashes the bytes in a worker thread while the chunks are parsed and checked.

What the parser is given is the file's text with two repairs that never change a verdict: a lone CR becomes
a space (so it cannot split a line) and undecodable bytes become U+FFFD (so the reader cannot fail on
them). The md5 and size are of the original bytes; the file itself is never written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import re
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from bot.config import ValidationSettings
from bot.validate import layout

CHUNK_SIZE = 16 << 20  # bytes of text per chunk: big enough to amortise, small enough to bound memory
MAX_RECORD = 1 << 20  # a record (a row, ~500 bytes) longer than this is not a field row
_PIECE = 1 << 20  # compressed bytes read at a time
_HEADER_LIMIT = 1 << 20
_BOMB_FLOOR = 1 << 16  # compressed bytes below which the ratio is not judged yet
_LONE_CR = re.compile(rb"\r(?!\n)")
_LF_AFTER_CRLF = "this line ends in LF but the header in CRLF; use one line ending throughout"
_BARE_LF = re.compile(rb"(?<!\r)\n")


class StreamFailure(Exception):
    """Reading cannot go on (corrupt gzip, a decompression bomb, a file over the size limit, a broken record)."""

    def __init__(self, code: str, message: str, line: int | None = None, col: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.col = col


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

    def readinto(self, target: memoryview) -> int:
        n = self.raw.readinto(target) or 0  # type: ignore[attr-defined]  # every binary file object has it
        self.out += n
        if self.limit is not None and self.out > self.limit:
            raise StreamFailure(
                "too-large", f"the file is larger than the limit of {self.limit:,} bytes "
                "(validation.max_file_bytes); split the field or raise the limit in release-config.yaml",
            )
        return n


class _GzipSource:
    """Decompress as the reader asks, never more than it asks for, and refuse bombs early."""

    def __init__(self, raw: BinaryIO, settings: ValidationSettings) -> None:
        self.raw = raw
        self.ratio = settings.max_gzip_ratio
        self.limit = settings.max_file_bytes
        self.d = zlib.decompressobj(31)
        self.fed = 0
        self.out = 0

    @property
    def consumed(self) -> int:
        return self.fed - len(self.d.unconsumed_tail) - len(self.d.unused_data)

    def readinto(self, target: memoryview) -> int:
        data = self._read(len(target))
        target[: len(data)] = data
        return len(data)

    def _read(self, n: int) -> bytes:
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


@dataclass
class Chunk:
    """Whole records of the file (after the header), as the parser should read them.

    ``text`` is a view of a reused buffer: valid until ``release()``. Whoever parses the chunk sets
    ``line_feeds`` when it knows them (rows read + rows refused, for a chunk with no quoted line feed), which
    saves ``FieldText`` counting them to number the next chunk's lines.
    """

    text: memoryview
    first_line: int  # physical line of the first record
    first_byte: int  # offset of the first record in the (decompressed) file
    quoted_line_feeds: bool  # a quoted cell holds a line feed: records and lines differ
    quotes: bool  # the chunk holds a double quote somewhere
    final: bool  # the last chunk of the file
    ends_with_lf: bool
    line_feeds: int | None = None
    _release: Callable[[], None] | None = None
    _bytes: bytes | None = None

    def data(self) -> bytes:
        """The chunk's text as bytes (a copy, made once): for locating rows, which is rare."""
        if self._bytes is None:
            self._bytes = bytes(self.text)
        return self._bytes

    def release(self) -> None:
        """Give the buffer back for the next chunk (``text`` is then no longer this chunk's)."""
        if self._release is not None:
            self._release()
            self._release = None


class FieldText:
    """A field file's text: the header line, then record-aligned chunks; md5, size and text notes on the way."""

    def __init__(
        self,
        raw: BinaryIO,
        *,
        gzipped: bool,
        settings: ValidationSettings,
        on_progress: Callable[[int], None] | None = None,
        chunk_size: int | None = None,
    ) -> None:
        self._source = _GzipSource(raw, settings) if gzipped else _PlainSource(raw, settings.max_file_bytes)
        self._chunk_size = max(chunk_size or CHUNK_SIZE, 2 * MAX_RECORD)
        if not gzipped:
            with contextlib.suppress(AttributeError, OSError, ValueError):  # a small file, a small buffer
                self._chunk_size = min(self._chunk_size, os.fstat(raw.fileno()).st_size + 1)
        self._free: queue.Queue[bytearray] = queue.Queue()  # buffers of released chunks, reused
        self._carry = b""  # the start of a record that the previous buffer cut off
        self._eof = False
        self._md5 = hashlib.md5()
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="md5")
        self._hashing: dict[int, Future[None]] = {}  # id(buffer) -> its pending hash
        self.size = 0
        self.line = 0  # physical lines handed out so far (the header is line 1)
        self.crlf = False  # the header's line ending decides the file's
        self.notes: dict[str, TextNote] = {}
        self.failure: StreamFailure | None = None
        self._on_progress = on_progress
        self._first_byte = 0

    @property
    def md5(self) -> str:
        self._drain()
        return self._md5.hexdigest()

    def close(self) -> None:
        self._drain()
        self._hasher.shutdown(wait=True)

    def _drain(self) -> None:
        for f in self._hashing.values():
            f.result()
        self._hashing = {}

    # -- reading into the buffers ---------------------------------------------------------------------
    def _buffer(self) -> bytearray:
        """A released buffer, or a new one: the reader's queue bounds how many chunks are out at once.

        Always room for the carried-over record start and a record more (a file may be longer than it said).
        """
        size = max(self._chunk_size, len(self._carry) + MAX_RECORD)
        try:
            buf = self._free.get_nowait()
            if len(buf) >= size:
                return buf
        except queue.Empty:
            pass
        return bytearray(size)

    def _fill(self, buf: bytearray) -> int:
        """Put the carried-over record start, then new bytes, in ``buf``; hash the new bytes; return the length."""
        pending = self._hashing.pop(id(buf), None)
        if pending is not None:
            pending.result()  # the buffer's previous bytes are hashed before they are overwritten
        start = len(self._carry)
        buf[:start] = self._carry
        self._carry = b""
        view = memoryview(buf)
        end = start
        try:
            while end < len(buf) and not self._eof:
                n = self._source.readinto(view[end:])
                if not n:
                    self._eof = True
                    break
                end += n
        except StreamFailure as exc:
            self.failure = exc
            raise
        if end > start:
            if end - start < _PIECE:
                self._md5.update(view[start:end])  # too little to be worth a thread
            else:
                self._hashing[id(buf)] = self._hasher.submit(self._md5.update, view[start:end])
            self.size += end - start
            if self._on_progress:
                self._on_progress(self._source.consumed)
        return end

    # -- header ---------------------------------------------------------------------------------------
    def read_header(self) -> bytes | None:
        """The first line without its line ending; None for an empty file."""
        buf = self._buffer()
        end = self._fill(buf)
        if end == 0:
            self._free.put(buf)
            return None
        cut = buf.find(b"\n", 0, end)
        if cut < 0:
            if end > _HEADER_LIMIT:
                self._free.put(buf)
                self.failure = StreamFailure("bad-header", "the first line is over 1 MiB long: this is not a field CSV",
                                             1)
                raise self.failure
            cut = end
        header = bytes(buf[:cut])
        self._carry = bytes(buf[cut + 1:end])
        self._free.put(buf)
        self.crlf = header.endswith(b"\r")
        self.line = 1
        self._first_byte = cut + 1
        return header[:-1] if self.crlf else header

    # -- the chunks -----------------------------------------------------------------------------------
    def chunks(self) -> Iterator[Chunk]:
        """Record-aligned chunks of everything after the header, in order."""
        while self._carry or not self._eof:
            buf = self._buffer()
            end = self._fill(buf)
            if end == 0:
                self._free.put(buf)
                return
            chunk = self._cut(buf, end)
            yield chunk
            self._count_lines(chunk)  # before its buffer can be reused

    def _cut(self, buf: bytearray, end: int) -> Chunk:
        final = self._eof
        quotes = buf.find(b'"', 0, end) >= 0
        quoted_lf = False
        if final:
            cut = end
            if quotes:
                self._refuse_open_quote(bytes(buf[:end]))
        elif not quotes:
            cut = buf.rfind(b"\n", 0, end) + 1
        else:
            cut, quoted_lf = layout.last_record_end(bytes(buf[:end]))
        if not final and end - cut > MAX_RECORD:
            self._free.put(buf)
            self._refuse_long_record(bytes(buf[:end]), cut)
        self._carry = bytes(buf[cut:end])
        text = memoryview(buf)[:cut]
        fixed = self._checked(text)
        chunk = Chunk(
            memoryview(fixed) if fixed is not None else text, self.line + 1, self._first_byte, quoted_lf, quotes,
            final and not self._carry, cut > 0 and buf[cut - 1] == layout.LF, _release=lambda: self._free.put(buf),
        )
        if fixed is not None:
            chunk._bytes = fixed
        self._first_byte += cut
        return chunk

    def _count_lines(self, chunk: Chunk) -> None:
        """Number the next chunk's lines: this one's line feeds, from its parser or counted here."""
        feeds = chunk.line_feeds
        if feeds is None:  # not parsed yet (the parsers run behind the reader): count them, allocating nothing
            whole = chunk._bytes if chunk._bytes is not None else chunk.text.obj
            assert isinstance(whole, bytes | bytearray)
            feeds = whole.count(b"\n", 0, len(chunk.text))
        self.line += feeds + (0 if chunk.ends_with_lf else 1)

    def _refuse_long_record(self, head: bytes, cut: int) -> None:
        line = self.line + 1 + head.count(b"\n", 0, cut)
        opened = layout.open_quote(head[cut:])
        if opened is not None:
            extra, col = layout.line_and_col(head, cut, cut + opened)
            self.failure = StreamFailure(
                "unterminated-quote", "a quoted cell opens here and is still open more than "
                f"{MAX_RECORD:,} bytes later; close the quote (write a quote inside a quoted cell as \"\")",
                line + extra, col)
        else:
            self.failure = StreamFailure(
                "line-too-long", f"this line is longer than {MAX_RECORD:,} bytes (a field row is about 500): "
                "the file is not a field CSV, or its line endings are missing", line)
        raise self.failure

    def _refuse_open_quote(self, data: bytes) -> None:
        """The file ends inside a quoted cell: no reader can tell where its rows were meant to end."""
        opened = layout.open_quote(data)
        if opened is None:
            return
        extra, col = layout.line_and_col(data, 0, opened)
        self.failure = StreamFailure(
            "unterminated-quote", "this quoted cell is never closed (the file ends inside it); close the quote, "
            "and write a quote inside a quoted cell as \"\"", self.line + 1 + extra, col)
        raise self.failure

    def _checked(self, text: memoryview) -> bytes | None:
        """Note what breaks the text rules; the repaired text when it needed repair, else None."""
        buf = text.obj
        assert isinstance(buf, bytearray)
        n = len(text)
        fixed: bytes | None = None
        if buf.find(b"\r", 0, n) >= 0:
            fixed = self._line_endings(bytes(text))
        elif self.crlf and buf.find(b"\n", 0, n) >= 0:
            self._note("mixed-line-endings", self.line + 1, _LF_AFTER_CRLF, bytes(text).count(b"\n"))
        if n and np.frombuffer(buf, dtype=np.uint8, count=n).max() >= 0x80:
            fixed = self._utf8(fixed if fixed is not None else bytes(text))
        return fixed

    def _line_endings(self, chunk: bytes) -> bytes:
        first_line = self.line + 1
        crlf = chunk.count(b"\r\n")
        if chunk.count(b"\r") > crlf:
            lone = [m.start() for m in _LONE_CR.finditer(chunk)]
            self._note(
                "bad-line-ending", first_line + chunk.count(b"\n", 0, lone[0]),
                "a line ending is a lone CR (old Mac style); end lines with LF as pandas does", len(lone),
            )
            chunk = _LONE_CR.sub(b" ", chunk)
        if self.crlf:
            if chunk.count(b"\n") > crlf:
                bare = list(_BARE_LF.finditer(chunk))
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

    def _utf8(self, chunk: bytes) -> bytes:
        try:
            chunk.decode("utf-8")
            return chunk
        except UnicodeDecodeError as exc:
            self._note(
                "not-utf8", self.line + 1 + chunk.count(b"\n", 0, exc.start),
                f"byte 0x{chunk[exc.start]:02x} is not UTF-8 text; save the file as UTF-8",
            )
            return chunk.decode("utf-8", "replace").encode("utf-8")

    def _note(self, code: str, line: int, message: str, count: int = 1) -> None:
        note = self.notes.get(code)
        if note is None:
            self.notes[code] = TextNote(code, line, message, count)
        else:
            note.count += count
