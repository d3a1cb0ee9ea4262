"""Reading a saved model (``.npz``) from an untrusted file: size and structure are checked before unpacking.

A model file is a zip archive of ``.npy`` members: ``__architecture__.npy`` (a JSON list of layer descriptions,
stored as a text scalar) and one float array per parameter, named as `Sequential` names them (``0.weight``,
``0.bias``, ...). Before a byte of parameter data is decompressed, `read_model_file` checks:

1. the zip directory: members stored or deflated, not encrypted, named ``*.npy``, no name twice;
2. the architecture: a small text member holding a JSON list of layer descriptions (a ``type`` and plain
   numbers), Dense sizes positive integers;
3. the parameter members against it: exactly the parameters it has, each ``.npy`` header giving the shape it
   implies and float32 or float64 (one dtype for all), each member's declared size equal to header plus data;
4. memory: the arrays, the model's copies and their gradients must fit in the memory available.

The declared sizes bound what is decompressed: zipfile stops a member there and checks its CRC, so a zip bomb
is refused by checks 1-4, before it is unpacked.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._memory import check_memory
from .._npy import NpyHeader, read_npy, read_npy_header
from ..errors import BackproplabError, ModelFileError, brief

ARCHITECTURE = "__architecture__"
NOT_A_MODEL = "not a readable backproplab model file"
_MAX_ARCHITECTURE_BYTES = 1 << 20
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def read_model_file(path: Path) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """The layer descriptions and the parameter arrays of the model saved at ``path``; `ModelFileError` naming
    the file and the problem, or `ResourceError` when the model does not fit in memory."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = _members(archive, path)
            specs = _architecture(archive, members, path)
            expected = parameter_shapes(specs, path)
            headers = _parameter_headers(archive, members, expected, path)
            dtypes = {h.dtype.newbyteorder("=") for h in headers.values()}
            if len(dtypes) > 1:
                raise _bad(
                    path, f"parameters of several dtypes ({', '.join(sorted(map(str, dtypes)))}); a model has one"
                )
            nbytes = sum(h.nbytes for h in headers.values())
            count = sum(math.prod(h.shape) for h in headers.values())
            # the arrays read, the model's own copies and their gradients
            check_memory(3 * nbytes, f"the model in {path} ({count:,} parameters)")
            arrays = {name: _read_member(archive, members[name], path, "f") for name in expected}
    except BackproplabError:
        raise
    except FileNotFoundError:
        raise ModelFileError(f"{path}: model file not found") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the model file ({exc.strerror or brief(exc)})") from None
    except Exception as exc:  # zipfile reports a damaged archive with several kinds of error
        raise ModelFileError(
            f"{path}: {NOT_A_MODEL} (a damaged zip archive: {type(exc).__name__}: {brief(exc)})"
        ) from None
    return specs, arrays


def _where(path: Path, what: str) -> str:
    return f"{path}: {NOT_A_MODEL}: {what}"


def _bad(path: Path, problem: str) -> ModelFileError:
    return ModelFileError(_where(path, problem))


def parameter_shapes(specs: list[dict[str, Any]], path: Path) -> dict[str, tuple[int, ...]]:
    """The arrays the layers described by ``specs`` have, by `Sequential` name: Dense ``i`` has
    ``i.weight`` of shape ``(in_features, out_features)`` and, with a bias, ``i.bias`` of ``(out_features,)``;
    BatchNorm ``i`` has ``i.weight``, ``i.bias``, ``i.running_mean`` and ``i.running_var``, each ``(features,)``."""
    shapes: dict[str, tuple[int, ...]] = {}
    width = None  # out_features of the previous Dense layer
    for i, spec in enumerate(specs):
        if spec["type"] == "BatchNorm":
            features = spec.get("features")
            if type(features) is not int or features < 1 or (width is not None and features != width):
                raise _bad(
                    path,
                    f"layer {i} (BatchNorm) needs features >= 1 equal to the width before it "
                    f"({width}); got {_short(spec)}",
                )
            shapes.update((f"{i}.{name}", (features,)) for name in ("weight", "bias", "running_mean", "running_var"))
            continue
        if spec["type"] != "Dense":
            continue
        sizes = (spec.get("in_features"), spec.get("out_features"))
        if not all(type(s) is int and s >= 1 for s in sizes) or type(spec.get("bias")) is not bool:
            raise _bad(
                path,
                f"layer {i} (Dense) needs in_features and out_features >= 1 and bias true or false; got {_short(spec)}",
            )
        if width is not None and sizes[0] != width:
            raise _bad(path, f"layer {i} (Dense) takes {sizes[0]} inputs but the layer before gives {width}")
        width = sizes[1]
        shapes[f"{i}.weight"] = (sizes[0], sizes[1])
        if spec["bias"]:
            shapes[f"{i}.bias"] = (sizes[1],)
    return shapes


def _members(archive: zipfile.ZipFile, path: Path) -> dict[str, zipfile.ZipInfo]:
    """The ``.npy`` members by array name, after checking the directory entries."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename
        if not name.endswith(".npy") or name[:-4] in members:
            problem = "twice" if name.endswith(".npy") else "(not an .npy array)"
            raise _bad(path, f"member {name!r} {problem}; a model file holds one .npy array a name")
        if info.flag_bits & 0x1 or info.compress_type not in _COMPRESSIONS:
            raise _bad(
                path,
                f"member {name!r} is encrypted or compressed with method "
                f"{info.compress_type}; model files are stored or deflated",
            )
        members[name[:-4]] = info
    return members


def _architecture(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], path: Path) -> list[dict[str, Any]]:
    info = members.get(ARCHITECTURE)
    if info is None:
        raise ModelFileError(f"{path}: no architecture record; was it written by backproplab.save_model?")
    if info.file_size > _MAX_ARCHITECTURE_BYTES:
        raise _bad(
            path,
            f"the architecture record declares {info.file_size} bytes, more than the "
            f"{_MAX_ARCHITECTURE_BYTES} a model description can need",
        )
    text = _read_member(archive, info, path, "U")
    if text.shape != ():
        raise _bad(path, f"the architecture record must be one text; got an array of shape {text.shape}")
    try:
        specs = json.loads(str(text[()]))
    except (ValueError, RecursionError) as exc:
        raise _bad(path, f"the architecture record is not valid JSON ({brief(exc)})") from None
    if not isinstance(specs, list):
        raise _bad(path, f"the architecture record must be a list of layers; got {type(specs).__name__}")
    for i, spec in enumerate(specs):
        if not (
            isinstance(spec, dict)
            and isinstance(spec.get("type"), str)
            and all(_plain_number(v) for k, v in spec.items() if k != "type")
        ):
            raise _bad(path, f"layer {i} must be described by a type and finite numbers; got {_short(spec)}")
    return specs


def _plain_number(value: Any) -> bool:
    return isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value))


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value) if not isinstance(value, list | dict) else json.dumps(value)[: limit + 1]
    return text if len(text) <= limit else text[:limit] + "..."


def _parameter_headers(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], expected: dict[str, tuple[int, ...]], path: Path
) -> dict[str, NpyHeader]:
    """Each parameter's ``.npy`` header (only the header is decompressed), checked against ``expected``."""
    names = set(members) - {ARCHITECTURE}
    missing, unexpected = sorted(set(expected) - names), sorted(names - set(expected))
    if missing or unexpected:
        raise _bad(
            path,
            f"the arrays do not match the architecture: missing {missing or 'none'}, "
            f"unexpected {unexpected[:10] or 'none'}",
        )
    headers = {}
    for name, shape in expected.items():
        info = members[name]
        with archive.open(info) as fh:
            header = read_npy_header(fh, _where(path, f"parameter {name}"), ModelFileError, "f")
        if header.shape != shape or header.dtype.itemsize not in (4, 8):
            raise _bad(
                path,
                f"parameter {name} is {header.dtype} of shape {header.shape}; the "
                f"architecture needs float32 or float64 of shape {shape}",
            )
        if info.file_size != header.offset + header.nbytes:
            raise _bad(
                path,
                f"parameter {name} declares {info.file_size} bytes; its shape needs {header.offset + header.nbytes}",
            )
        headers[name] = header
    return headers


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, kinds: str) -> np.ndarray:
    with archive.open(info) as fh:
        return read_npy(
            fh,
            info.file_size,
            _where(path, f"member {info.filename}"),
            ModelFileError,
            kinds,
            name=f"{path} (member {info.filename})",
        )
