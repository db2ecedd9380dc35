"""From text or bytes to physical lines, numbered as the parser numbers them.

A line ends at ``\\r\\n``, ``\\r`` or ``\\n`` (nothing else). Files are read a 64 KiB block
of whole lines at a time and decoded as UTF-8, else cp1252, else latin-1 (which never
fails), a UTF-8 byte-order mark dropped: memory is one block, or one line when a line is
longer. Compiled with mypyc in the optional compiled build (no pydantic model here).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Final

__all__ = ["file_blocks", "physical_lines", "read_lines", "split_lines"]

_NEWLINE_RE: Final = re.compile(r"\r\n|\r|\n")
_BLOCK: Final = 1 << 16  # bytes read at a time: lines are decoded a block at once


def split_lines(text: str) -> list[str]:
    """Split ``text`` the way the parser numbers lines (``\\r\\n``, ``\\r``, ``\\n``)."""
    lines = _NEWLINE_RE.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


def physical_lines(lines: Iterable[str]) -> Iterator[str]:
    """Each item is one line, optionally ended by a line break; stray breaks split it further."""
    for chunk in lines:
        if "\n" not in chunk and "\r" not in chunk:  # the common item: a bare line
            yield chunk
            continue
        if chunk.endswith("\n"):
            chunk = chunk[:-2] if chunk.endswith("\r\n") else chunk[:-1]
        elif chunk.endswith("\r"):
            chunk = chunk[:-1]
        if "\r" in chunk or "\n" in chunk:
            yield from _NEWLINE_RE.split(chunk)
        else:
            yield chunk


def _decode(data: bytes) -> str:
    """One line's bytes as text: UTF-8, else cp1252, else latin-1 (never fails)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_lines(source: str | Path | BinaryIO) -> Iterator[str]:
    """The physical lines of a file or a binary stream, decoded and numbered as
    `etatmachine.legacy.iter_file` reads them (no line breaks left in them)."""
    for block in file_blocks(source):
        yield from block


def file_blocks(source: str | Path | BinaryIO) -> Iterator[list[str]]:
    """The physical lines of a file or a binary stream, a block of whole lines at a time.

    A block that is valid UTF-8 as a whole is valid line by line (b"\\n" never occurs inside
    a multi-byte sequence), so it is decoded at once; any other block is decoded line by line
    with the fallbacks. A last line without a line break reads as if it had one.
    """
    if isinstance(source, (str, Path)):
        with open(source, "rb") as fh:
            yield from _stream_blocks(fh)
    else:
        yield from _stream_blocks(source)


def _stream_blocks(fh: BinaryIO) -> Iterator[list[str]]:
    """`file_blocks` on an open binary stream."""
    first = True
    parts: list[bytes] = []  # the start of a line longer than a block
    while True:
        block = fh.read(_BLOCK)
        if not block:
            if parts:
                parts.append(b"\n")
                yield _block_lines(b"".join(parts), first)
            return
        end = block.rfind(b"\n") + 1
        if end == 0:
            parts.append(block)
            continue
        if parts:
            parts.append(block[:end])
            data = b"".join(parts)
            parts = []
        else:
            data = block if end == len(block) else block[:end]
        if end < len(block):
            parts.append(block[end:])
        yield _block_lines(data, first)
        first = False


def _block_lines(data: bytes, first: bool) -> list[str]:
    """The lines of ``data`` (whole lines, each ended by b"\\n"), as `physical_lines` splits
    them."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        texts = [_decode(line) for line in data.split(b"\n")]
        texts.pop()
    else:
        texts = text.split("\n")
        texts.pop()
        if "\r" not in text:
            if first and texts:
                texts[0] = texts[0].removeprefix("\ufeff")
            return texts
    if first and texts:
        texts[0] = texts[0].removeprefix("\ufeff")
    lines: list[str] = []
    for line in texts:
        if line.endswith("\r"):
            line = line[:-1]
        if "\r" in line:
            lines.extend(line.split("\r"))
        else:
            lines.append(line)
    return lines
