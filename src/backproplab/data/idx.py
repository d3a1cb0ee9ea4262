"""Reader for the IDX format of MNIST and Fashion-MNIST (optionally gzip-compressed).

Layout: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions d, then d big-endian
int32 sizes, then the data in C order. Compressed files are read as a stream: the header is checked before
the data is decompressed, and no more than the header's size (plus one byte, to detect trailing data) is.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .._memory import available_bytes, check_memory, format_bytes
from ..errors import DatasetError, ResourceError

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"
# deflate never expands data more than this (a 258-byte match costs at least 2 bits): a bound on what a gzip
# file of a given size can decompress to, known before decompressing it
_MAX_DEFLATE_RATIO = 1032
_CHUNK = 1 << 20


@contextlib.contextmanager
def _stream(path: Path) -> Iterator[tuple[BinaryIO, int, bool]]:
    """The file's content as a stream (gunzipped when it is gzip data), its length or (gzip) an upper bound on
    its length, and whether that length is exact."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    with fh:
        size = path.stat().st_size
        if fh.read(2) != _GZIP_MAGIC:
            fh.seek(0)
            yield fh, size, True
            return
        fh.seek(0)
        with gzip.GzipFile(fileobj=fh, mode="rb") as unzipped:
            yield unzipped, size * _MAX_DEFLATE_RATIO, False


def _read(stream: BinaryIO, n: int, path: Path) -> bytes:
    """Up to ``n`` bytes; a truncated, corrupt or unreadable (compressed) file raises `DatasetError`."""
    try:
        return stream.read(n)
    except EOFError:
        raise DatasetError(
            f"{path}: truncated gzip file (the compressed stream ends early); re-download or reinstall it"
        ) from None
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise DatasetError(f"{path}: corrupt gzip data ({exc})") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read file ({exc.strerror or exc})") from None


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it is gzip data; corrupt or truncated gzip raises `DatasetError`, and
    content larger than the memory available raises `ResourceError` before it is all decompressed."""
    limit = available_bytes()
    chunks: list[bytes] = []
    total = 0
    with _stream(path) as (stream, _, _):
        while chunk := _read(stream, _CHUNK, path):
            chunks.append(chunk)
            total += len(chunk)
            if limit is not None and total > limit:
                raise ResourceError(f"{path}: decompresses to more than {format_bytes(limit)}, the memory available")
    return b"".join(chunks)


def read_idx(path: str | Path, expected_ndim: int | None = None) -> np.ndarray:
    """Read one IDX file into an array of its stored type and shape."""
    path = Path(path)
    with _stream(path) as (stream, length, exact):
        magic = _read(stream, 4, path)
        if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _TYPES:
            raise DatasetError(
                f"{path}: not an IDX file (bad magic number {magic.hex() or 'empty file'}); "
                "expected 0x0000 then a type code such as 08"
            )
        ndim = magic[3]
        if expected_ndim is not None and ndim != expected_ndim:
            raise DatasetError(f"{path}: IDX file has {ndim} dimensions, expected {expected_ndim}")
        header = 4 + 4 * ndim
        sizes = _read(stream, 4 * ndim, path)
        if len(sizes) < 4 * ndim:
            raise DatasetError(f"{path}: truncated IDX header ({4 + len(sizes)} bytes, need {header})")
        shape = struct.unpack(f">{ndim}i", sizes)
        if any(d < 0 for d in shape):
            raise DatasetError(f"{path}: corrupt IDX header: negative size in shape {shape}")
        dtype = np.dtype(_TYPES[magic[2]])
        expected = math.prod(shape) * dtype.itemsize
        if expected > length - header:
            holds = (
                f"file holds {length - header} bytes" if exact else f"this gzip file can hold at most {length - header}"
            )
            raise DatasetError(f"{path}: IDX data truncated: header says shape {shape} ({expected} bytes), {holds}")
        check_memory(expected, f"{path}: IDX data of shape {shape}")
        data = _read(stream, expected, path)
        found = len(data)
        if found == expected:
            found += _count_rest(stream, path)
    if found != expected:
        what = "truncated" if found < expected else "has trailing bytes"
        raise DatasetError(
            f"{path}: IDX data {what}: header says shape {shape} ({expected} bytes), file holds {found} bytes"
        )
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _count_rest(stream: BinaryIO, path: Path, cap: int = 64 * _CHUNK) -> int:
    """Bytes left in ``stream`` (reading at most ``cap`` of them, then stopping the count there)."""
    rest = 0
    while rest < cap and (chunk := _read(stream, _CHUNK, path)):
        rest += len(chunk)
    return rest
