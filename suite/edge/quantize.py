"""int8 for ONNX Runtime: dynamic quantisation (``onnxruntime.quantization.quantize_dynamic``).

First ORT's own pre-processing (``quant_pre_process``: its basic graph optimisations, constant folding
included, and shape inference), as ORT's documentation asks: the exporter's optimiser folds constants only up
to a size limit, so at H = 64 an LSTM's recurrent weight R reached the LSTM node through Transpose/Reshape
nodes, and ``quantize_dynamic``, which needs W and R as initialisers, silently left that LSTM in fp32 (only
the head was quantised, file size -2 %). Then weights of MatMul (constant B only) and LSTM nodes become int8 (symmetric, per tensor, QInt8); activations
are quantised to uint8 on the fly at run time, per call. The op types are named explicitly
(``QUANTIZED_OP_TYPES``): ORT's dynamic quantiser also knows Gather (it would quantise the Transformer's
position table) and Conv/Attention (absent here), and it has NO GRU operator -- a graph with an ONNX GRU
node keeps that node in fp32. Hence the GRU's int8 path is the 'matmul cell' graph (``export_onnx``).
Gemm (the head of the 'ONNX GRU/LSTM op' graphs) is not quantised in dynamic mode either.

LiteRT's dynamic-range quantisation happens in its converter instead (``export_litert``).
"""
from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

from suite.edge.runtime import ExportedStep

QUANTIZED_OP_TYPES = ["MatMul", "LSTM"]
# node types that hold int8 weights after quantize_dynamic (before ORT's own graph optimisations)
INT8_NODE_TYPES = {"MatMulInteger", "DynamicQuantizeMatMul", "DynamicQuantizeLSTM", "MatMulIntegerToFloat"}
SHAPE_OPS = {"Reshape", "Transpose", "Unsqueeze", "Squeeze", "Slice", "Concat", "Gather", "Identity", "Cast"}


class Unsupported(RuntimeError):
    """The runtime cannot quantise this graph (the row's status becomes 'unsupported' with this reason)."""


def quantize_onnx(fp32: ExportedStep, path: str) -> ExportedStep:
    """Dynamic int8 copy of an fp32 ONNX step at ``path``; raises Unsupported when nothing was quantised.

    notes['fp32_left'] lists the quantisable nodes (LSTM, MatMul with a constant weight) still in fp32."""
    import onnx
    from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic

    from suite.edge.export_onnx import onnx_ops, onnx_opset
    if "GRU" in fp32.ops:
        raise Unsupported("ONNX Runtime's dynamic quantisation has no GRU operator (MatMul, Conv, Attention, "
                          "LSTM only); the int8 GRU is the 'matmul cell' graph")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)   # quantize_dynamic logs a pre-processing hint at WARNING
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            pre = str(path) + ".pre.onnx"
            quant_pre_process(fp32.path, pre)
            quantize_dynamic(pre, path, op_types_to_quantize=QUANTIZED_OP_TYPES,
                             weight_type=QuantType.QInt8, per_channel=False)
    finally:
        root.setLevel(level)
        Path(str(path) + ".pre.onnx").unlink(missing_ok=True)
    proto = onnx.load(path)
    ops = onnx_ops(proto)
    n_int8 = sum(node.op_type in INT8_NODE_TYPES for node in proto.graph.node)
    if not n_int8:
        raise Unsupported(f"quantize_dynamic found no MatMul with constant weights or LSTM in {fp32.graph!r}")
    left = fp32_left(proto)
    return ExportedStep(path=str(path), runtime="onnxruntime", precision="int8", graph=fp32.graph,
                        inputs=fp32.inputs, outputs=fp32.outputs, ops=ops, capacity=fp32.capacity,
                        notes={**fp32.notes, "opset": onnx_opset(proto), "int8_nodes": n_int8, "fp32_left": left,
                               "quantizer": "onnxruntime.quantization.quantize_dynamic(QInt8, per tensor, "
                                            f"op_types={QUANTIZED_OP_TYPES})"})


def fp32_left(proto) -> list[str]:
    """Names of LSTM nodes, and of MatMul nodes whose weight is an initialiser (possibly behind shape-only
    nodes), that are still fp32: what dynamic quantisation could have taken but did not."""
    inits = {i.name for i in proto.graph.initializer}
    producer = {out: node for node in proto.graph.node for out in node.output}

    def constant(name: str) -> bool:
        node = producer.get(name)
        if name in inits:
            return True
        if node is None:
            return False
        if node.op_type == "Constant":
            return True
        return node.op_type in SHAPE_OPS and all(constant(i) for i in node.input if i)

    return [f"{n.op_type} {n.name}" for n in proto.graph.node
            if n.op_type == "LSTM" or n.op_type == "MatMul" and len(n.input) > 1 and constant(n.input[1])]
