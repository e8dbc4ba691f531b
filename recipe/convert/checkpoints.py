"""Reading published checkpoints and checking them against what a converter expects.

- ``load_state_dict``: a torch ``.pt`` / ``.bin`` file (fairseq2 ``{"model": …}``, fairseq1
  ``{"state_dict": …}``, fairseq2 ≥ 0.5 bare state dicts, HF ``pytorch_model.bin``) or a
  ``.safetensors`` file (read here: 8-byte header length, JSON header, raw little-endian data;
  Debian's Python has no ``safetensors`` package), or a Hugging Face folder holding either.
- ``save_safetensors``: the inverse, used by ``miniature`` to write HF-format test checkpoints.
- ``remap``: renames source keys by a mapping table and refuses any key no rule covers;
  ``load_mapped`` loads the result strictly. Every error names the checkpoint, the key and
  the expected shape, and says what to do.
"""
import json
import os
import re
import struct
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor


class ConversionError(Exception):
    """A checkpoint that cannot be converted; the message names the file, the key and what to do."""


_ST_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
              "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool}
_ST_NAMES = {v: k for k, v in _ST_DTYPES.items()}


def read_safetensors(path: str) -> Dict[str, Tensor]:
    """All tensors of a .safetensors file (format: u64 header size, JSON header, data)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ConversionError(f"{path}: too short to be a .safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except ValueError as e:
        raise ConversionError(f"{path}: the .safetensors header is not JSON ({e}); is the file complete?") from e
    base = 8 + n
    out: Dict[str, Tensor] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _ST_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ConversionError(f"{path}: tensor {name} has dtype {info['dtype']}, which this converter does not read")
        start, end = info["data_offsets"]
        buf = bytearray(raw[base + start: base + end])
        t = torch.frombuffer(buf, dtype=dtype) if end > start else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def save_safetensors(tensors: Mapping[str, Tensor], path: str) -> None:
    """Write ``tensors`` as .safetensors (keys sorted, contiguous little-endian data)."""
    header: Dict[str, Any] = {}
    chunks: List[bytes] = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": _ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for c in chunks:
            f.write(c)


def _torch_load(path: str) -> Any:
    try:
        return torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - torch raises many kinds; the message says which file
        raise ConversionError(f"{path}: torch.load failed ({type(e).__name__}: {e}); is this a PyTorch checkpoint?") from e


def hf_weights_file(folder: str) -> str:
    """The weights file of a Hugging Face model folder (model.safetensors or pytorch_model.bin)."""
    for name in ("model.safetensors", "pytorch_model.bin"):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            return p
    if any(n.endswith(".index.json") for n in os.listdir(folder)):
        raise ConversionError(f"{folder}: sharded Hugging Face checkpoints (*.index.json) are not supported; "
                              "re-save the model with save_pretrained(max_shard_size='10GB')")
    raise ConversionError(f"{folder}: no model.safetensors or pytorch_model.bin; pass the folder that save_pretrained wrote")


def load_state_dict(path: str) -> Tuple[Dict[str, Tensor], Dict[str, Any]]:
    """(state dict, extras) of a checkpoint file or HF folder; extras holds any non-tensor top-level fields."""
    if not os.path.exists(path):
        raise ConversionError(f"{path}: no such file or folder")
    if os.path.isdir(path):
        path = hf_weights_file(path)
    if path.endswith(".safetensors"):
        return read_safetensors(path), {}
    obj = _torch_load(path)
    if not isinstance(obj, dict):
        raise ConversionError(f"{path}: expected a dict of tensors (or {{'model': …}}), got {type(obj).__name__}")
    extras: Dict[str, Any] = {}
    if "model" in obj and isinstance(obj["model"], dict):  # fairseq2 ≤ 0.4 / LCM trainer
        extras = {k: v for k, v in obj.items() if k != "model"}
        obj = obj["model"]
    elif "state_dict" in obj and isinstance(obj["state_dict"], dict):  # fairseq1-style SONAR dumps
        extras = {k: v for k, v in obj.items() if k != "state_dict"}
        obj = obj["state_dict"]
    tensors = {k: v for k, v in obj.items() if isinstance(v, Tensor)}
    others = sorted(k for k in obj if k not in tensors)
    if others:
        extras["non_tensor_keys"] = others
    if not tensors:
        raise ConversionError(f"{path}: no tensors found (top-level keys: {sorted(obj)[:10]})")
    return tensors, extras


def strip_prefix(state: Dict[str, Tensor], prefixes: Sequence[str]) -> Dict[str, Tensor]:
    """Drop the first of ``prefixes`` that every key starts with (e.g. ``model.encoder.``); unchanged if none does."""
    for p in prefixes:
        if state and all(k.startswith(p) for k in state):
            return {k[len(p):]: v for k, v in state.items()}
    return state


Rule = Tuple[str, str]


def remap(state: Mapping[str, Tensor], rules: Sequence[Rule], source: str, ignore: Sequence[str] = ()) -> Dict[str, Tuple[str, Tensor]]:
    """Rename every key of ``state`` by the first matching rule (``re.fullmatch`` pattern → template).

    Returns ``{target_key: (source_key, tensor)}``. A key that matches no rule and no ``ignore``
    pattern is an error naming it: converting would silently drop a parameter.
    """
    out: Dict[str, Tuple[str, Tensor]] = {}
    unknown: List[str] = []
    for key in sorted(state):
        if any(re.fullmatch(p, key) for p in ignore):
            continue
        for pattern, template in rules:
            m = re.fullmatch(pattern, key)
            if m:
                target = m.expand(template)
                if target in out:
                    raise ConversionError(f"{source}: keys `{out[target][0]}` and `{key}` both map to `{target}`")
                out[target] = (key, state[key])
                break
        else:
            unknown.append(key)
    if unknown:
        shown = ", ".join(f"`{k}` {list(state[k].shape)}" for k in unknown[:8])
        more = f" and {len(unknown) - 8} more" if len(unknown) > 8 else ""
        raise ConversionError(f"{source}: unexpected keys {shown}{more}. The converter does not know these parameters, "
                              "so converting would silently drop them: the checkpoint's architecture differs from the "
                              "published one (see the mapping tables in docs/converters.md).")
    return out


def need(mapped: Mapping[str, Tuple[str, Tensor]], target: str, source: str, what: str) -> Tensor:
    """The mapped tensor for ``target``, or an error saying which source key was expected (``what``)."""
    if target not in mapped:
        raise ConversionError(f"{source}: missing key {what}; is this the right checkpoint for this converter?")
    return mapped[target][1]


def load_mapped(module: torch.nn.Module, mapped: Mapping[str, Tuple[str, Tensor]], source: str,
                extra: Optional[Mapping[str, Tensor]] = None) -> None:
    """Load ``mapped`` (+ ``extra`` target tensors) into ``module`` strictly.

    A shape mismatch names the source key, its shape and the expected shape; a target
    parameter with no source names what is missing.
    """
    own = module.state_dict()
    values: Dict[str, Tensor] = {}
    for target, (key, t) in mapped.items():
        if target not in own:
            raise ConversionError(f"{source}: key `{key}` maps to `{target}`, which this model does not have "
                                  "(more layers in the checkpoint than configured?)")
        if list(own[target].shape) != list(t.shape):
            raise ConversionError(f"{source}: key `{key}` has shape {list(t.shape)}, expected {list(own[target].shape)}. "
                                  "Check the size options (--heads, dims) or that the checkpoint is of this format.")
        if not t.is_floating_point():
            raise ConversionError(f"{source}: key `{key}` is {t.dtype}, expected a floating-point tensor")
        values[target] = t.detach().to(torch.float32)
    for target, t in (extra or {}).items():
        values[target] = t.detach().to(torch.float32)
    missing = sorted(k for k in own if k not in values)
    if missing:
        raise ConversionError(f"{source}: no checkpoint key for {', '.join(f'`{m}` {list(own[m].shape)}' for m in missing[:6])}"
                              f"{' …' if len(missing) > 6 else ''}; the checkpoint lacks parameters this architecture needs")
    module.load_state_dict(values, strict=True)
