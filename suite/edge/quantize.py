"""int8 for ONNX Runtime: dynamic quantisation (``onnxruntime.quantization.quantize_dynamic``).

Weights of MatMul (constant B only) and LSTM nodes become int8 (symmetric, per tensor, QInt8); activations
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

from suite.edge.runtime import ExportedStep

QUANTIZED_OP_TYPES = ["MatMul", "LSTM"]
# node types that hold int8 weights after quantize_dynamic (before ORT's own graph optimisations)
INT8_NODE_TYPES = {"MatMulInteger", "DynamicQuantizeMatMul", "DynamicQuantizeLSTM", "MatMulIntegerToFloat"}


class Unsupported(RuntimeError):
    """The runtime cannot quantise this graph (the row's status becomes 'unsupported' with this reason)."""


def quantize_onnx(fp32: ExportedStep, path: str) -> ExportedStep:
    """Dynamic int8 copy of an fp32 ONNX step at ``path``; raises Unsupported when nothing was quantised."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from suite.edge.export_onnx import onnx_ops, onnx_opset
    if "GRU" in fp32.ops:
        raise Unsupported("ONNX Runtime's dynamic quantisation has no GRU operator (MatMul, Conv, Attention, "
                          "LSTM only); the int8 GRU is the 'matmul cell' graph")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)   # quantize_dynamic logs a pre-processing hint at WARNING
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            quantize_dynamic(fp32.path, path, op_types_to_quantize=QUANTIZED_OP_TYPES,
                             weight_type=QuantType.QInt8, per_channel=False)
    finally:
        root.setLevel(level)
    proto = onnx.load(path)
    ops = onnx_ops(proto)
    n_int8 = sum(node.op_type in INT8_NODE_TYPES for node in proto.graph.node)
    if not n_int8:
        raise Unsupported(f"quantize_dynamic found no MatMul with constant weights or LSTM in {fp32.graph!r}")
    return ExportedStep(path=str(path), runtime="onnxruntime", precision="int8", graph=fp32.graph,
                        inputs=fp32.inputs, outputs=fp32.outputs, ops=ops, capacity=fp32.capacity,
                        notes={**fp32.notes, "opset": onnx_opset(proto), "int8_nodes": n_int8,
                               "quantizer": "onnxruntime.quantization.quantize_dynamic(QInt8, per tensor, "
                                            f"op_types={QUANTIZED_OP_TYPES})"})
