"""Chunks of CSV text -> Arrow tables of strings, parsed ahead on every core while the engine checks.

Each chunk of whole records is parsed by ``pyarrow.csv.read_csv`` on one core; as many chunks are parsed at
once as there are cores (cheaper than splitting each chunk across them), and handed over in file order.
Cells are read as text (the row schema decides what a valid number looks like, not the parser) with RFC 4180
quoting: a quoted cell becomes its unquoted value. Records whose cell count differs from the header's are
counted and skipped; the engine finds which they were.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar, cast

import pyarrow as pa
import pyarrow.csv as pcsv

from bot.validate import layout, stream
from bot.validate.stream import Chunk, StreamFailure

READ_AHEAD = 2  # parsed chunks waiting for the checks (bounds memory)
T = TypeVar("T")


@dataclass
class Parsed:
    chunk: Chunk
    table: pa.Table  # one string column per header column, "c0", "c1", ...
    refused: int  # records skipped for their cell count


class ChunkParser:
    def __init__(self, columns: int) -> None:
        self.keys = [f"c{i}" for i in range(columns)]
        # pyarrow parses a chunk in blocks of this size on every core; a record longer than a block stops it.
        # One chunk per core at a time, each parsed serially: cheaper than splitting every chunk across the cores.
        self.read_options = pcsv.ReadOptions(column_names=self.keys, block_size=stream.MAX_RECORD, use_threads=False)
        self.convert_options = pcsv.ConvertOptions(
            column_types=dict.fromkeys(self.keys, pa.string()), check_utf8=False, strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )

    def parse(self, chunk: Chunk) -> Parsed:
        refused = 0

        def skip(_row: object) -> str:
            nonlocal refused
            refused += 1
            return "skip"

        options = pcsv.ParseOptions(
            quote_char='"', double_quote=True, newlines_in_values=chunk.quoted_line_feeds,
            ignore_empty_lines=False, invalid_row_handler=skip,
        )
        try:
            table = pcsv.read_csv(pa.py_buffer(chunk.text), parse_options=options, convert_options=self.convert_options,
                                  read_options=self.read_options)
        except pa.ArrowInvalid:
            _refuse_long_record(chunk)
            raise
        if not chunk.quoted_line_feeds:  # one record per line: the line feeds are counted already
            chunk.line_feeds = table.num_rows + refused - (0 if chunk.ends_with_lf else 1)
        return Parsed(chunk, table, refused)


def _refuse_long_record(chunk: Chunk) -> None:
    """Raise a StreamFailure at the first record too long to be a field row, if there is one."""
    records = layout.layout(chunk.data())
    long = records.ends - records.starts > stream.MAX_RECORD
    if long.any():
        first = int(long.argmax())
        raise StreamFailure(
            "line-too-long", f"this line is longer than {stream.MAX_RECORD:,} bytes (a field row is about 500): "
            "the file is not a field CSV, or its line endings are missing",
            chunk.first_line + int(records.lines[first]),
        )


def parsed_chunks(chunks: Iterator[Chunk], columns: int) -> Iterator[Parsed]:
    """The chunks, parsed; a file of one chunk is parsed here, a longer one in a read-ahead thread."""
    parser = ChunkParser(columns)
    first = next(chunks, None)
    if first is None:
        return
    if first.final:
        yield parser.parse(first)
        return
    workers = os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="csv-parse") as pool:
        parses = (pool.submit(parser.parse, c) for c in itertools.chain([first], chunks))
        for parsing in read_ahead(parses, depth=workers):
            yield parsing.result()


def read_ahead(items: Iterator[T], depth: int = READ_AHEAD) -> Iterator[T]:
    """Produce the next items in a thread while this one is used.

    Reading, hashing, parsing and the compute kernels all release the GIL, so the producer and the consumer
    run on separate cores; ``depth`` bounds the items held in memory.
    """
    done = object()
    ahead: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        """Queue ``item`` unless the consumer has gone; False when it has."""
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def pump() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(done)
        except BaseException as exc:  # handed to the consumer, raised there
            offer(exc)

    thread = threading.Thread(target=pump, name="csv-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := ahead.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield cast(T, item)
    finally:
        stop.set()
        thread.join()
