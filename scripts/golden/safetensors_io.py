"""Minimal safetensors writer and reader (no `safetensors` package here).

Format: u64 little-endian header length N, then N bytes of JSON
  {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}
padded with spaces so the data section starts 8-byte aligned, then the raw
little-endian tensor bytes; offsets are relative to the data section start.
"""

import json
import struct

import numpy as np
import torch

# dtype tag -> (numpy little-endian dtype used for the raw bytes, bytes per element)
_NUMPY_OF_TAG = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "F64": np.dtype("<f8")}


def _tensor_bytes(tensor: torch.Tensor, tag: str) -> bytes:
    if tag == "BF16":
        # numpy has no bfloat16: take the 16 raw bits torch stores.
        bits = tensor.detach().to(torch.bfloat16).contiguous().view(torch.int16).numpy()
        return bits.astype("<i2").tobytes()
    return tensor.detach().cpu().numpy().astype(_NUMPY_OF_TAG[tag]).tobytes()


def write_safetensors(path: str, tensors: dict, tag: str = "F32") -> None:
    """Write every tensor of `tensors` (name -> torch.Tensor) converted to `tag`.

    Names are written sorted so the file bytes depend only on the content.
    """
    header = {"__metadata__": {"format": "pt"}}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        data = _tensor_bytes(tensors[name], tag)
        header[name] = {
            "dtype": tag,
            "shape": list(tensors[name].shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * ((8 - (8 + len(header_bytes)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for chunk in chunks:
            f.write(chunk)


def read_safetensors(path: str) -> dict:
    """Read back a file written above: name -> float32 torch.Tensor.

    Checks the layout invariants (alignment, contiguous non-overlapping
    offsets covering the whole data section) so a writer bug cannot hide.
    """
    with open(path, "rb") as f:
        raw = f.read()
    (header_len,) = struct.unpack("<Q", raw[:8])
    if (8 + header_len) % 8 != 0:
        raise ValueError(f"{path}: data section not 8-byte aligned")
    header = json.loads(raw[8 : 8 + header_len].decode("utf-8"))
    data = raw[8 + header_len :]
    header.pop("__metadata__", None)
    out = {}
    spans = []
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        spans.append((begin, end))
        chunk = data[begin:end]
        shape = entry["shape"]
        if entry["dtype"] == "BF16":
            bits = torch.from_numpy(np.frombuffer(chunk, dtype="<i2").copy())
            values = bits.view(torch.bfloat16).to(torch.float32)
        else:
            values = torch.from_numpy(np.frombuffer(chunk, dtype=_NUMPY_OF_TAG[entry["dtype"]]).astype(np.float32))
        if values.numel() != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{path}: {name} has {values.numel()} elements for shape {shape}")
        out[name] = values.reshape(shape)
    spans.sort()
    cursor = 0
    for begin, end in spans:
        if begin != cursor:
            raise ValueError(f"{path}: gap or overlap at byte {begin}")
        cursor = end
    if cursor != len(data):
        raise ValueError(f"{path}: data section has {len(data) - cursor} trailing bytes")
    return out
