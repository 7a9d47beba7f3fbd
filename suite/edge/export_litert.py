"""Keras 3 streaming step -> LiteRT (.tflite), with TensorFlow's ``tf.lite.TFLiteConverter``.

Path: the step as a ``tf.function`` with a fixed input signature (batch 1) -> concrete function -> its
variables frozen into constants (``convert_variables_to_constants_v2``; converted with the variables
alive, TF 2.21 keeps them as VAR_HANDLE/READ_VARIABLE resources that the interpreter never initialises,
so every output is NaN) -> ``TFLiteConverter.from_concrete_functions([frozen], model)`` (the Keras model
as trackable object: the current converter path, which writes a signature 'serving_default' with inputs
x, state names and outputs output_0, output_1, ...) -> a .tflite file run by
``ai_edge_litert.interpreter`` (``suite.edge.runtime``). Calling convention as in ``suite.edge.runtime``.

    GRU, LSTM ('keras cell'): the model's own ``streaming_step`` -- each layer's GRUCell / LSTMCell
        called once, then the Dense head. State h per layer (1, H) [GRU], h, c per layer [LSTM].
        Why the cell: a whole Keras 3 RNN layer converts to a WHILE loop over time (Keras's TensorFlow
        backend runs RNNs through tf.while_loop), not TFLite's fused UNIDIRECTIONAL_SEQUENCE_LSTM op;
        ``sequence_ops`` converts the whole-sequence model to show it. One cell call has no loop at all.
    A plugin model ('encoder step()'): its encoder layer's own ``step(x_t, state)`` plus the head, the state as
        ``init_state(1)`` gives it (a tensor or a flat list of tensors).
    Transformer ('KV cache C=<C>'): the model's own layers (Dense, LayerNormalization, the
        MultiHeadAttention's query/key/value/output EinsumDense) with the key/value cache in
        preallocated buffers of capacity C: per layer K, V (1, C, n, d), then the position t (1,) int32.
        The new k, v are written at slot t through a one-hot mask, slots > t are masked with -inf, so
        the logits equal the model's growing-cache step for every t < C (same choice as the ONNX export).

int8: dynamic-range quantisation, ``converter.optimizations = [tf.lite.Optimize.DEFAULT]`` with no
representative data set: weights of FULLY_CONNECTED / BATCH_MATMUL ... with at least 1024 elements are
stored as int8 and the kernels quantise activations on the fly (hybrid kernels); smaller weights stay fp32.
The converter also stores the Transformer's position table (a GATHER constant) as int8 with a DEQUANTIZE
after the lookup; ONNX Runtime's path leaves that table in fp32 (``suite.edge.quantize``).
"""
from __future__ import annotations

import os

import numpy as np

from suite.edge.runtime import ExportedStep, quiet_fd2
from suite.models.keras.common import ops, tf

DEFAULT_CAPACITY = 64


class ExportError(RuntimeError):
    """The converter produced something unusable."""


# --- the step functions (flat inputs -> flat outputs) -------------------------------------------
def recurrent_step_fn(model):
    """(fn, input signature, state names) for GRUKeras / LSTMKeras: the model's own streaming_step."""
    s = model.spec
    per_layer = ["h", "c"] if s.arch == "lstm" else ["h"]
    names = [f"{p}{k}" for k in range(s.layers) for p in per_layer]

    def fn(x, *flat):
        state = [list(flat[k * len(per_layer):(k + 1) * len(per_layer)]) for k in range(s.layers)]
        logits, new = model.streaming_step(x, state)            # (1, O), [[h] | [h, c]] per layer
        return (logits, *(v for layer in new for v in layer))

    sig = [tf.TensorSpec((1, s.input_size), tf.float32, name="x")]
    sig += [tf.TensorSpec((1, s.hidden), tf.float32, name=n) for n in names]
    return fn, sig, names


def transformer_step_fn(model, capacity: int):
    """(fn, input signature, state names) for TransformerKeras with a fixed-capacity key/value cache."""
    from suite.models.keras.transformer import sinusoidal_positions
    s = model.spec
    n, D, C = s.attention_heads, s.hidden, capacity
    d = D // n
    pe = np.asarray(sinusoidal_positions(0, C, D, "float32"))                  # (C, D), as the model's step
    slots = np.arange(C, dtype=np.int32)

    def fn(x, *flat):
        caches, t = flat[:-1], flat[-1]                                        # t (1,) int32
        h = model.inp(x) + tf.gather(pe, t)                                    # (1, D)
        write = tf.reshape(tf.cast(tf.equal(slots, t), tf.float32), (1, C, 1, 1))   # one-hot slot t
        visible = tf.reshape(tf.less_equal(slots, t), (1, 1, 1, C))           # positions 0..t
        new = []
        for k, block in enumerate(model.blocks):
            K, V = caches[2 * k], caches[2 * k + 1]                            # (1, C, n, d)
            attn = block.attn
            a = block.ln1(h)[:, None, :]                                       # (1, 1, D)
            q = attn.query_dense(a)                                            # (1, 1, n, d)
            K = K * (1.0 - write) + attn.key_dense(a) * write
            V = V * (1.0 - write) + attn.value_dense(a) * write
            scores = ops.einsum("bqnd,bknd->bnqk", q, K) / np.sqrt(d)         # (1, n, 1, C)
            scores = tf.where(visible, scores, tf.fill(tf.shape(scores), -np.inf))
            ctx = ops.einsum("bnqk,bknd->bqnd", tf.nn.softmax(scores, axis=-1), V)   # (1, 1, n, d)
            h = h + attn.output_dense(ctx)[:, 0]                               # (1, D)
            h = h + block.ff2(block.ff1(block.ln2(h)))
            new += [K, V]
        return (model.head(model.ln_f(h)), *new, t + 1)

    names = [f"{kv}{k}" for k in range(s.layers) for kv in ("K", "V")] + ["t"]
    sig = [tf.TensorSpec((1, s.input_size), tf.float32, name="x")]
    sig += [tf.TensorSpec((1, C, n, d), tf.float32, name=nm) for nm in names[:-1]]
    sig += [tf.TensorSpec((1,), tf.int32, name="t")]
    return fn, sig, names


def encoder_step_fn(model):
    """(fn, input signature, state names) of a plugin Keras encoder's own step (``suite.models.keras.encoder``);
    ``Unsupported`` when it has none or its state is not a tensor or a flat list of tensors."""
    from suite.edge.quantize import Unsupported
    from suite.models.keras.encoder import has_step
    s = model.spec
    if not has_step(model.layer):
        raise Unsupported(f"{s.name}: its encoder has no step(x_t, state) and init_state(batch_size); its "
                          f"streaming recomputes the prefix, which has no fixed-shape state to export")
    state = model.layer.init_state(1)
    listed = isinstance(state, (tuple, list))
    states = list(state) if listed else [state]
    if not all(hasattr(t, "shape") and hasattr(t, "dtype") for t in states):
        raise Unsupported(f"{s.name}: its state must be a tensor or a flat list of tensors to export")
    names = [f"s{i}" for i in range(len(states))]

    def fn(x, *flat):
        logits, new = model.streaming_step(x, list(flat) if listed else flat[0])
        return (logits, *(list(new) if listed else [new]))

    sig = [tf.TensorSpec((1, s.input_size), tf.float32, name="x")]
    sig += [tf.TensorSpec(tuple(t.shape), tf.as_dtype(t.dtype), name=n) for t, n in zip(states, names)]
    return fn, sig, names


# --- conversion ------------------------------------------------------------------------------
def frozen_function(fn, signature):
    """Concrete function of ``fn`` with every variable folded into a constant."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    return convert_variables_to_constants_v2(tf.function(fn, input_signature=signature).get_concrete_function())


def convert(frozen, int8: bool, trackable) -> bytes:
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], trackable)
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]   # dynamic range: int8 weights, float activations
    with quiet_fd2():
        return converter.convert()


def export_litert(model, path: str, precision: str = "fp32", capacity: int = DEFAULT_CAPACITY) -> ExportedStep:
    """Convert one step of a Keras model to ``path`` (.tflite); precision 'fp32' | 'int8' (dynamic range)."""
    s = model.spec
    if s.framework != "keras" or s.dtype != "float32":
        raise ExportError(f"{s.name}: the LiteRT export takes float32 Keras models")
    from suite.models.registry import is_plugin
    if is_plugin(s.arch, s.framework):
        fn, sig, names = encoder_step_fn(model)
        graph = "encoder step()"
    elif s.arch == "transformer":
        fn, sig, names = transformer_step_fn(model, capacity)
        graph = f"KV cache C={capacity}"
    else:
        fn, sig, names = recurrent_step_fn(model)
        graph = "keras cell"
    frozen = frozen_function(fn, sig)
    blob = convert(frozen, int8=precision == "int8", trackable=model.model)
    with open(path, "wb") as f:
        f.write(blob)
    outputs = [f"output_{i}" for i in range(len(frozen.outputs))]           # the signature's names, in order
    exported = ExportedStep(path=str(path), runtime="litert", precision=precision, graph=graph,
                            inputs=["x", *names], outputs=outputs, ops=[],
                            capacity=capacity if s.arch == "transformer" else None,
                            notes={"converter": "tf.lite.TFLiteConverter.from_concrete_functions (frozen)"
                                                + (", Optimize.DEFAULT" if precision == "int8" else ""),
                                   "signature": "serving_default"})
    exported.ops, n_int8 = litert_ops(exported)
    if precision == "int8":
        exported.notes["int8_tensors"] = n_int8
    return exported


def litert_ops(exported: ExportedStep) -> tuple[list[str], int]:
    """(sorted builtin op names of the file, without delegation; number of int8 tensors = quantised weights)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    with quiet_fd2():
        it = Interpreter(model_path=exported.path, num_threads=1,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        it.allocate_tensors()
    names = sorted({d["op_name"] for d in it._get_ops_details()})
    n_int8 = sum(np.dtype(t["dtype"]) == np.int8 for t in it.get_tensor_details())
    return names, int(n_int8)


def sequence_ops(model, seq_len: int = 8) -> list[str]:
    """Builtin ops of the WHOLE-sequence Keras model (1, T, X) -> head, converted the same way: for a
    Keras 3 GRU/LSTM this holds a WHILE loop, not a fused sequence op. For the record, not for running."""
    import tempfile
    s = model.spec
    sig = [tf.TensorSpec((1, seq_len, s.input_size), tf.float32, name="x")]
    frozen = frozen_function(lambda x: model.model(x, training=False), sig)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sequence.tflite")
        with open(path, "wb") as f:
            f.write(convert(frozen, int8=False, trackable=model.model))
        return litert_ops(ExportedStep(path, "litert", "fp32", "sequence", ["x"], [], []))[0]

