"""What the three Keras 3 models share (TensorFlow backend): task head, losses, Adam + clipping, dtype,
seeding, NumPy <-> tensor conversion, the compiled train step and the SequenceModel plumbing.

A concrete model subclasses ``KerasSequenceModel`` and supplies
    build_encoder(inputs)          -> encoder states (B, T, H) as a symbolic tensor (layers created here)
    encoder_variables()            -> {local name: keras.Variable} of the encoder
    encoder_to_canonical(p, grad)  -> canonical encoder weights (or gradients, grad=True)
    canonical_to_encoder(w)        -> {local name: array}
    init_state / streaming_step    -> streaming (wrapped here in a tf.function)
Head: ``keras.layers.Dense(O)``, kernel (H, O) = canonical ``head.W``, bias ``head.b``.

Losses (means over every element, exactly as in ``suite.losses``):
    regression  mean((y_hat - y)^2)
    classes     sum(m * sparse_categorical_crossentropy(y', logits, from_logits=True)) / sum(m),
                m = (y != IGNORE_INDEX), y' = y with ignored labels set to 0 (their CE is masked out)
    multilabel  mean(binary_crossentropy(y, logits, from_logits=True))   (element-wise, then mean)
Training, the way Keras users train: ``model.compile(optimizer, loss, jit_compile=KERAS_JIT_COMPILE)``
then ``model.train_on_batch`` (a tf.function train step built by Keras). Optimizer
``keras.optimizers.Adam(beta_1=0.9, beta_2=0.999, epsilon=1e-8, global_clipnorm=clip_norm)``; Keras's
default epsilon is 1e-7. Keras adds epsilon to sqrt(v) before bias correction ("epsilon hat", Kingma & Ba
2014, sec. 2), PyTorch after: the two differ slightly in the first steps only. With dtype float64 the
loss and gradients are float64, but the loss value train_on_batch reports is cast to float32 by Keras
(CompileLoss).

jit_compile: measured on this 2-core CPU (B=32, T=100, X=32, H=128, MSE head, train_on_batch, three
models interleaved, median of 20): GRU 13.7 ms (False) / 14.3 ms (True, XLA) / 15.2 ms ('auto');
LSTM 12.9 / 17.6 / 15.3 ms; Transformer 19.0 / 18.5 / 19.6 ms; XLA's first call also costs ~1.3 s more.
So 'auto' -- Keras's default, which resolves to False (a plain tf.function graph) on CPU-only machines
and to XLA where a GPU exists -- is the fastest-but-standard choice; ``execution_path()['mode']``
records the resolved one ('graph' or 'xla'). Eager Keras is no option: a GRU forward alone takes 118 ms
eagerly against 14 ms for a whole compiled train step.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import random
import sys
from typing import Any

import numpy as np

from suite.models import layouts
from suite.errors import UserError
from suite.losses import IGNORE_INDEX, check_target_shape
from suite.models.base import ADAM_BETA1, ADAM_BETA2, ADAM_EPS, SequenceModel
from suite.spec import ModelSpec

KERAS_JIT_COMPILE = "auto"   # Keras's own default; resolves to False (graph) on CPU-only machines


def _import_tensorflow_quietly():
    """Import TensorFlow with TF_CPP_MIN_LOG_LEVEL=2 and KERAS_BACKEND=tensorflow.

    TF 2.21 prints absl's pre-initialisation lines (the oneDNN notice) to file descriptor 2 during the
    import, whatever TF_CPP_MIN_LOG_LEVEL says; while the level is >= 2 that descriptor is pointed at
    /dev/null for the import only (Python exceptions still propagate)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    keras_module = sys.modules.get("keras")
    if keras_module is not None and keras_module.backend.backend() != "tensorflow":
        raise UserError(f"Keras models need KERAS_BACKEND=tensorflow; keras is already imported with the "
                        f"{keras_module.backend.backend()!r} backend")
    os.environ["KERAS_BACKEND"] = "tensorflow"   # the suite's Keras models are TensorFlow-backend by design
    level = os.environ["TF_CPP_MIN_LOG_LEVEL"]
    if "tensorflow" in sys.modules or not (level.isdigit() and int(level) >= 2):
        import tensorflow
        return tensorflow
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tensorflow


tf = _import_tensorflow_quietly()
tf.get_logger().setLevel("ERROR")   # e.g. retracing notices when many small models are built in one process
import keras  # noqa: E402  (after the environment is set)
from keras import ops  # noqa: E402


# --- seeding, conversion ------------------------------------------------------------------------
@contextlib.contextmanager
def seeded(seed: int):
    """keras.utils.set_random_seed(seed) for the initialisers; Python's and NumPy's global RNG states are
    restored afterwards (TensorFlow's global seed stays set).

    Keras draws each initialiser's seed from Python's global ``random`` module, which other threads of the
    process may draw from at the same time (a Dask worker's event loop does): inside the block Keras draws
    from a private ``random.Random(seed)`` instead -- the same numbers a freshly seeded global module gives
    -- so the initial weights depend on the seed alone."""
    from keras.src.random import seed_generator
    py_state, np_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(seed)
    shared, seed_generator.python_random = seed_generator.python_random, random.Random(seed)
    try:
        yield
    finally:
        seed_generator.python_random = shared
        random.setstate(py_state)
        np.random.set_state(np_state)


def to_tensor(a, dtype: str):
    """NumPy (or array-like) -> tf.Tensor of ``dtype``; a tf.Tensor / tf.Variable passes through."""
    if isinstance(a, (tf.Tensor, tf.Variable)):
        return a
    return tf.convert_to_tensor(np.asarray(a), dtype=dtype)


def to_numpy(t) -> np.ndarray:
    return np.asarray(t)


# --- losses -------------------------------------------------------------------------------------
def task_loss(y, out, head: str):
    """Mean loss over every element (module docstring); y_true first, as Keras losses take it."""
    if head == "regression":
        return ops.mean(ops.square(out - y))
    if head == "classes":
        y = ops.cast(y, "int32")
        kept = ops.not_equal(y, IGNORE_INDEX)
        each = ops.sparse_categorical_crossentropy(ops.where(kept, y, 0), out, from_logits=True)
        kept = ops.cast(kept, each.dtype)
        return ops.sum(each * kept) / ops.sum(kept)
    return ops.mean(ops.binary_crossentropy(y, out, from_logits=True))


class TaskLoss(keras.losses.Loss):
    """``task_loss`` as a keras.losses.Loss for model.compile (computed in the model's dtype; Keras hands
    class ids over as floats, task_loss casts them back)."""

    def __init__(self, head: str, dtype: str):
        super().__init__(name=f"{head}_loss", dtype=dtype)
        self.head = head

    def call(self, y_true, y_pred):
        return task_loss(y_true, y_pred, self.head)


def onednn_enabled() -> bool:
    """TensorFlow's own answer: built with oneDNN and TF_ENABLE_ONEDNN_OPTS not switched off."""
    from tensorflow.python.util import _pywrap_util_port
    return bool(_pywrap_util_port.IsMklEnabled())


def keras_rnn_cudnn_criteria(layer, reset_after: bool | None) -> bool:
    """Keras's own test (keras.src.backend.tensorflow.rnn) of whether a layer's arguments allow the
    cuDNN kernel; GPU presence is not part of it (see execution_path()['device'])."""
    tf_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")   # the module, not its rnn()
    cell = layer.cell
    args = dict(activation=cell.activation, recurrent_activation=cell.recurrent_activation,
                unroll=layer.unroll, use_bias=cell.use_bias)
    if reset_after is None:
        return bool(tf_rnn._do_lstm_arguments_support_cudnn(**args))
    return bool(tf_rnn._do_gru_arguments_support_cudnn(reset_after=reset_after, **args))


# --- the shared model class -------------------------------------------------------------------------
class KerasSequenceModel(SequenceModel):
    """SequenceModel plumbing for a functional keras.Model: inputs (B, T, X) -> head outputs."""

    def __init__(self, spec: ModelSpec):
        super().__init__(spec)
        with seeded(spec.seed):
            inputs = keras.Input(shape=(None, spec.input_size), dtype=spec.dtype, name="x")
            states = self.build_encoder(inputs)                                 # (B, T, H)
            self.head = keras.layers.Dense(spec.output_size, dtype=spec.dtype, name="head")
            last = states[:, -1] if spec.output == "last" else states           # (B, H) or (B, T, H)
            self.model = keras.Model(inputs, self.head(last), name=spec.name)
            self.encoder = keras.Model(inputs, states, name=f"{spec.name}-encoder")
        self._predict_fn = tf.function(self._predict, jit_compile=self.model.jit_compile, reduce_retracing=True)
        self._step_fn = tf.function(self.streaming_step, reduce_retracing=True)

    # --- hooks for subclasses ---------------------------------------------------------------------
    def build_encoder(self, inputs):
        raise NotImplementedError

    def encoder_variables(self) -> dict[str, Any]:
        raise NotImplementedError

    def encoder_to_canonical(self, p: dict[str, np.ndarray], grad: bool) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def canonical_to_encoder(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def streaming_step(self, x_t, state):
        """x_t (B, X) tensor -> (head output (B, O), new state); traced into a tf.function."""
        raise NotImplementedError

    # --- conversion --------------------------------------------------------------------------------
    def tensor(self, a):
        return to_tensor(a, self.spec.dtype)

    def target(self, y):
        if isinstance(y, (tf.Tensor, tf.Variable)):
            return y
        return tf.convert_to_tensor(np.asarray(y), dtype="int64" if self.spec.head == "classes" else self.spec.dtype)

    def output_shape_for(self, x_shape: tuple) -> tuple:
        B, T = x_shape[0], x_shape[1]
        O = self.spec.output_size
        return (B, O) if self.spec.output == "last" else (B, T, O)

    def variables(self) -> dict[str, Any]:
        """{native name: keras.Variable}: the encoder's plus 'head.kernel', 'head.bias'."""
        out = dict(self.encoder_variables())
        out["head.kernel"], out["head.bias"] = self.head.kernel, self.head.bias
        return out

    def native_to_canonical(self, named: dict[str, np.ndarray], grad: bool = False) -> dict[str, np.ndarray]:
        out = self.encoder_to_canonical(named, grad)
        out["head.W"], out["head.b"] = np.array(named["head.kernel"]), np.array(named["head.bias"])  # (H, O), (O,)
        return out

    def canonical_to_native(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = self.canonical_to_encoder(w)
        out["head.kernel"], out["head.bias"] = w["head.W"], w["head.b"]
        return out

    # --- inference ---------------------------------------------------------------------------------
    def _predict(self, x):
        return self.model(x, training=False)

    def predict_native(self, x):
        """Head outputs as a tf.Tensor from a compiled (tf.function) forward."""
        return self._predict_fn(self.tensor(x))

    def forward(self, x) -> np.ndarray:
        return to_numpy(self.predict_native(x))

    def encode(self, x) -> np.ndarray:
        return to_numpy(self.encoder(self.tensor(x), training=False))

    # --- training ------------------------------------------------------------------------------------
    def _checked(self, x, y):
        x, y = self.tensor(x), self.target(y)
        check_target_shape(tuple(y.shape), self.output_shape_for(tuple(x.shape)), self.spec.head)
        return x, y

    def loss(self, x, y) -> float:
        x, y = self._checked(x, y)
        return float(task_loss(y, self.model(x, training=False), self.spec.head))

    def gradients(self, x, y) -> dict[str, np.ndarray]:
        """Canonical gradients from a tf.GradientTape (no optimizer update)."""
        x, y = self._checked(x, y)
        names, variables = zip(*self.variables().items())
        with tf.GradientTape() as tape:
            loss = task_loss(y, self.model(x, training=True), self.spec.head)
        grads = tape.gradient(loss, list(variables))
        return self.native_to_canonical({n: to_numpy(g) for n, g in zip(names, grads)}, grad=True)

    def configure_training(self, lr: float, clip_norm: float | None) -> None:
        optimizer = keras.optimizers.Adam(learning_rate=lr, beta_1=ADAM_BETA1, beta_2=ADAM_BETA2,
                                          epsilon=ADAM_EPS, global_clipnorm=clip_norm)
        self.model.compile(optimizer=optimizer, loss=TaskLoss(self.spec.head, self.spec.dtype),
                           jit_compile=KERAS_JIT_COMPILE)

    def train_step(self, x, y) -> float:
        if not self.model.compiled:
            raise UserError("train_step: call configure_training(lr, clip_norm) first")
        x, y = self._checked(x, y)
        return float(self.model.train_on_batch(x, y))

    # --- weights -----------------------------------------------------------------------------------
    def num_params(self) -> int:
        return int(self.model.count_params())

    def get_weights(self) -> dict[str, np.ndarray]:
        return self.native_to_canonical({n: np.array(v.numpy()) for n, v in self.variables().items()})  # copies

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        expected = {k: v.shape for k, v in self.get_weights().items()}
        layouts.check_weight_shapes(weights, expected, where=self.spec.name)
        variables = self.variables()
        for name, value in self.canonical_to_native(weights).items():
            variables[name].assign(np.asarray(value, dtype=self.spec.dtype))

    # --- streaming ---------------------------------------------------------------------------------
    def step(self, x_t, state):
        """One token through the compiled streaming step; returns tf tensors (no host copy)."""
        return self._step_fn(self.tensor(x_t), state)

    # --- reporting ---------------------------------------------------------------------------------
    def execution_path(self) -> dict[str, Any]:
        return {"mode": "xla" if self.model.jit_compile else "graph",
                "jit_compile": KERAS_JIT_COMPILE, "train": "compile + train_on_batch",
                "onednn": onednn_enabled(), "cudnn_eligible": self.cudnn_eligible(),
                "device": "gpu" if tf.config.list_physical_devices("GPU") else "cpu",
                "threads": tf.config.threading.get_intra_op_parallelism_threads()}   # 0 = TF's default (all cores)

    def cudnn_eligible(self) -> bool:
        return False


class KerasRecurrentModel(KerasSequenceModel):
    """Stacked keras.layers.GRU / LSTM (return_sequences=True): what GRUKeras and LSTMKeras share.
    Subclasses give ``make_layer(k)`` and the one-layer layout converters."""

    def make_layer(self, k: int):
        raise NotImplementedError

    def layer_to_canonical(self, kernel, recurrent_kernel, bias, grad: bool) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def layer_to_keras(self, W_i, W_h, b_i, b_h) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def build_encoder(self, inputs):
        self.rnn_layers = [self.make_layer(k) for k in range(self.spec.layers)]
        h = inputs
        for layer in self.rnn_layers:
            h = layer(h)                               # (B, T, H)
        return h

    def encoder_variables(self) -> dict[str, Any]:
        out = {}
        for k, layer in enumerate(self.rnn_layers):
            cell = layer.cell
            out.update({f"l{k}.kernel": cell.kernel, f"l{k}.recurrent_kernel": cell.recurrent_kernel,
                        f"l{k}.bias": cell.bias})
        return out

    def encoder_to_canonical(self, p: dict[str, np.ndarray], grad: bool) -> dict[str, np.ndarray]:
        out = {}
        for k in range(self.spec.layers):
            layer = self.layer_to_canonical(p[f"l{k}.kernel"], p[f"l{k}.recurrent_kernel"], p[f"l{k}.bias"], grad)
            out.update({f"l{k}.{n}": v for n, v in layer.items()})
        return out

    def canonical_to_encoder(self, w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for k in range(self.spec.layers):
            layer = self.layer_to_keras(w[f"l{k}.W_i"], w[f"l{k}.W_h"], w[f"l{k}.b_i"], w[f"l{k}.b_h"])
            out.update({f"l{k}.{n}": v for n, v in layer.items()})
        return out

    def streaming_step(self, x_t, state):
        h, new_state = x_t, []
        for layer, s in zip(self.rnn_layers, state):
            h, s = layer.cell(h, s, training=False)    # (B, H), the layer's state list
            new_state.append(s)
        return self.head(h), new_state                 # (B, O)
