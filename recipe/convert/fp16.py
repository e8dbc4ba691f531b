"""float16 variant of an exported float32 graph, with float32 inputs and outputs.

Pack format 1 fixes every graph's inputs and outputs to float32 (docs/model-pack.md), so the
fp16 variant keeps that interface: Cast nodes at the boundary, weights and activations in
float16 inside (half the file size; fp16 tensor-core kernels on GPUs). Written here because
Debian's Python has no onnxconverter-common; the policy is the same as its
``keep_io_types=True`` conversion plus one precision rule:

- Sin/Cos and every node that feeds them stay float32: the diffusion timestep sinusoid takes
  t ≤ 99 and rotary angles reach the context length (4096); in float16 their spacing there is
  0.06 and 4, which would make the sines noise. (SONAR's position table is a constant Gather,
  fine in float16.)
- Pow, ReduceMean, Sqrt, Reciprocal and Div stay float32 (RMSNorm's mean of squares overflows
  float16 when |x| > 256), with Casts around them.

onnxruntime's CPU provider lacks float16 kernels for many ops and inserts Casts itself
(InsertCastTransformer), so an fp16 pack runs everywhere; it is fast only where the provider has
float16 kernels (CUDA, TensorRT, DirectML).
"""
from typing import Dict, List, Set

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT, HALF = TensorProto.FLOAT, TensorProto.FLOAT16
KEEP_FLOAT_OPS = {"Pow", "ReduceMean", "Sqrt", "Reciprocal", "Div"}
SINUSOID_OPS = {"Sin", "Cos"}
#: Control flow (torch exports ``squeeze`` of a dynamic dim as If): runs in float32; the outer
#: tensors its branches read are cast to float32 and renamed inside the branches.
SUBGRAPH_OPS = {"If", "Loop", "Scan"}


def _float_tensors(model: onnx.ModelProto) -> Set[str]:
    """Names of every float32 tensor (inputs, initializers, intermediate values) after shape inference."""
    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    names = {v.name for v in list(g.value_info) + list(g.input) + list(g.output) if v.type.tensor_type.elem_type == FLOAT}
    names |= {t.name for t in g.initializer if t.data_type == FLOAT}
    for n in g.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value" and a.t.data_type == FLOAT:
                    names.add(n.output[0])
    return names


def _pinned_nodes(graph: onnx.GraphProto) -> Set[int]:
    """Indices of nodes that must run in float32: sinusoid subgraphs (Sin/Cos and all ancestors) and KEEP_FLOAT_OPS."""
    producer: Dict[str, int] = {}
    for i, n in enumerate(graph.node):
        for o in n.output:
            producer[o] = i
    pinned: Set[int] = set()
    stack = [i for i, n in enumerate(graph.node) if n.op_type in SINUSOID_OPS]
    while stack:
        i = stack.pop()
        if i in pinned:
            continue
        pinned.add(i)
        stack.extend(producer[x] for x in graph.node[i].input if x in producer)
    pinned |= {i for i, n in enumerate(graph.node) if n.op_type in KEEP_FLOAT_OPS | SUBGRAPH_OPS}
    return pinned


def convert_to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """A float16 copy of ``model`` whose graph inputs and outputs stay float32."""
    floats = _float_tensors(model)
    g = model.graph
    pinned = _pinned_nodes(g)
    consumers: Dict[str, List[int]] = {}
    for i, n in enumerate(g.node):
        for x in n.input:
            consumers.setdefault(x, []).append(i)

    # Precision of each float tensor as produced: graph inputs float32; initializers half unless only
    # pinned nodes read them; node outputs follow the node.
    half: Set[str] = set()
    for init in g.initializer:
        if init.data_type == FLOAT and any(c not in pinned for c in consumers.get(init.name, [])):
            arr = numpy_helper.to_array(init).astype(np.float16)
            init.CopyFrom(numpy_helper.from_array(arr, init.name))
            half.add(init.name)
    for i, n in enumerate(g.node):
        if i in pinned:
            continue
        for o in n.output:
            if o in floats:
                half.add(o)
        if n.op_type == "Cast":
            for a in n.attribute:
                if a.name == "to" and a.i == FLOAT:
                    a.i = HALF
        if n.op_type in ("Constant", "ConstantOfShape"):
            for a in n.attribute:
                if a.name == "value" and a.t.data_type == FLOAT:
                    a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float16), a.t.name))

    new_nodes: List[onnx.NodeProto] = []
    casts: Dict[tuple, str] = {}

    def cast(name: str, to: int) -> str:
        key = (name, to)
        if key not in casts:
            out = f"{name}__as_{'fp16' if to == HALF else 'fp32'}"
            new_nodes.append(helper.make_node("Cast", [name], [out], to=to, name=f"cast_{len(casts)}_{out}"))
            casts[key] = out
        return casts[key]

    for i, n in enumerate(g.node):
        want_half = i not in pinned
        for a in n.attribute:  # branches of If/Loop read outer tensors by name: give them float32 copies
            for sub in ([a.g] if a.type == onnx.AttributeProto.GRAPH else []) + list(a.graphs):
                for sn in sub.node:
                    for k, x in enumerate(sn.input):
                        if x in floats and x in half:
                            sn.input[k] = cast(x, FLOAT)
        for k, x in enumerate(n.input):
            if x in floats:
                is_half = x in half
                if want_half and not is_half:
                    n.input[k] = cast(x, HALF)
                elif not want_half and is_half:
                    n.input[k] = cast(x, FLOAT)
        new_nodes.append(n)

    # Graph outputs stay float32: rename the producer's output and cast back to the public name.
    renames: Dict[str, str] = {}
    for out in g.output:
        if out.name in half:
            inner = f"{out.name}__fp16"
            renames[out.name] = inner
    if renames:
        for n in new_nodes:
            for k, o in enumerate(n.output):
                if o in renames:
                    n.output[k] = renames[o]
            for k, x in enumerate(n.input):
                if x in renames:
                    n.input[k] = renames[x]
        for public, inner in renames.items():
            new_nodes.append(helper.make_node("Cast", [inner], [public], to=FLOAT, name=f"cast_out_{public}"))

    del g.node[:]
    g.node.extend(new_nodes)
    del g.value_info[:]  # stale float32 annotations; onnxruntime re-infers
    return model


def convert_file(src: str, dst: str, external_data: bool) -> List[str]:
    """Convert the graph file ``src`` (loading its external data) and write ``dst``; returns the files written."""
    import os

    model = onnx.load(src)
    model = convert_to_fp16(model)
    folder, name = os.path.split(dst)
    data_name = name + ".data"
    for stale in (dst, os.path.join(folder, data_name)):
        if os.path.exists(stale):
            os.remove(stale)
    size = sum(t.ByteSize() for t in model.graph.initializer)
    if external_data or size > 2 ** 31 - (64 << 20):
        onnx.save_model(model, dst, save_as_external_data=True, all_tensors_to_one_file=True, location=data_name, size_threshold=1024)
        written = [name, data_name]
    else:
        onnx.save_model(model, dst)
        written = [name]
    onnx.checker.check_model(dst, full_check=True)
    return written
