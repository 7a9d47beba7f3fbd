"""One spec -> one model: the description every implementation is built from.

Shape legend used throughout the suite: ``B`` batch, ``T`` time, ``X`` input features,
``H`` hidden width (d_model for the Transformer), ``O`` head outputs, ``L`` layers.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from suite.errors import UserError

FRAMEWORKS = ("numpy", "torch", "keras")
# Which architectures and (arch, framework) implementations exist is the registry's to say
# (suite.models.registry: the built-ins and every plugin). Two ModelSpec fields vary an arch that declares them
# (its descriptor's ``variants``): the GRU convention below, and the scan of minGRU / minLSTM (Feng et al. 2024: no
# hidden state inside any gate, so h_t = a_t ⊙ h_{t-1} + b_t is a linear recurrence, computed either as a
# log-space parallel scan or step by step -- the same function).
SCANS = ("parallel", "sequential")
# GRU conventions. reset_after: r applied after the recurrent matmul (cuDNN, PyTorch, Keras
# reset_after=True). reset_before: Cho et al. 2014, r applied to h before the matmul.
GRU_CONVENTIONS = ("reset_after", "reset_before")
OUTPUTS = ("last", "sequence")          # head reads the last step, or every step
HEADS = ("regression", "classes", "multilabel")
DTYPES = ("float32", "float64")
# The initial forget-gate bias b_f each framework's LSTM starts from when ModelSpec.forget_bias is None:
# torch.nn.LSTM draws b_ih and b_hh each from U(-1/sqrt(H), 1/sqrt(H)), so b_f = their sum is near 0 (mean
# 0); Keras's LSTM has one bias, unit_forget_bias=True sets its f slice to 1; the NumPy LSTM draws b_i and
# b_h as torch does. Jozefowicz et al. 2015 found b_f = 1 "closes the gap between the LSTM and the GRU".
LSTM_FORGET_BIAS_DEFAULTS = {"torch": "~0 (b_ih, b_hh ~ U(-1/sqrt(H), 1/sqrt(H)) each)",
                             "keras": "1 (unit_forget_bias=True)",
                             "numpy": "~0 (b_i, b_h ~ U(-1/sqrt(H), 1/sqrt(H)) each, as torch)"}
FORGET_BIAS_PREFIX = "fb"     # model-name variant of a forget-bias arm: 'lstm-torch-fb0'
NULL_PREFIX = "ulp"           # model-name suffix of a divergence null: 'gru-torch-ulp1'


def forget_bias_variant(value: float) -> str:
    """The model-name variant of a forget-bias arm: 1.0 -> 'fb1', 0.0 -> 'fb0', 0.5 -> 'fb0.5'."""
    return f"{FORGET_BIAS_PREFIX}{float(value) + 0.0:g}"      # + 0.0: -0.0 reads 'fb0'


def framework_of(model: str) -> str:
    """The framework of a model name, 'gru-keras-reset_before' -> 'keras' ('' for a name without one). Lenient,
    for names read back from results; ``suite.config.parse_model_name`` validates a name from the user."""
    parts = str(model).split("-")
    return parts[1] if len(parts) > 1 else ""


def _arch(name: str):
    from suite.models.registry import arch
    return arch(name)


def check_choice(value, valid, what: str, where: str = "") -> None:
    """Raise a one-line UserError listing the valid names when ``value`` is not among them."""
    if value not in valid:
        prefix = f"{where}: " if where else ""
        raise UserError(f"{prefix}unknown {what} {value!r}; expected one of: {', '.join(map(str, valid))}")


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build one model: encoder (arch, width, layers) + task head.

    arch: gru | lstm | transformer | mingru | minlstm, or a plugin's (suite.models.registry);
    framework: numpy | torch | keras
    input_size X, hidden H, layers L, output_size O
    output: 'last' (sequence-level tasks read the last position) | 'sequence' (one output per step)
    head: 'regression' (MSE) | 'classes' (softmax cross-entropy) | 'multilabel' (sigmoid BCE)
    convention: GRU only, 'reset_after' (default) | 'reset_before'
    num_heads: Transformer attention heads (0 = auto: 4, 2 or 1, the largest that divides H)
    ff: Transformer feed-forward width (0 = 4 H)
    dtype: float32 | float64;  seed: initialisation seed
    scan: mingru/minlstm only, 'parallel' (log-space scan over T, the default) | 'sequential' (a loop
          over t); both compute the same function, other archs keep the default
    forget_bias: LSTM only, the initial forget-gate bias b_f (the sum b_i + b_h of its slice, gate order
          i|f|g|o; ``LSTM_FORGET_BIAS_DEFAULTS`` says what each framework starts from), set at build time by
          every LSTM implementation; None = the framework's own init. Only training reads it (an arm of the
          accuracy stage, ``training.lstm_forget_bias``), so the name carries it: 'lstm-torch-fb1'
    (convention and scan apply to the archs whose descriptor names them in ``variants``)
    """

    arch: str
    framework: str
    input_size: int
    hidden: int
    output_size: int
    layers: int = 1
    output: str = "last"
    head: str = "regression"
    convention: str = "reset_after"
    num_heads: int = 0
    ff: int = 0
    dtype: str = "float32"
    seed: int = 0
    scan: str = "parallel"
    forget_bias: float | None = None

    def __post_init__(self):
        from suite.models.registry import archs, implementation
        check_choice(self.framework, FRAMEWORKS, "framework")
        impl = implementation(self.arch, self.framework)        # UserError for an unknown arch or a missing cell
        descriptor = _arch(self.arch)
        check_choice(self.convention, GRU_CONVENTIONS, "GRU convention")
        check_choice(self.scan, SCANS, "scan")
        for variant, default in (("scan", "parallel"), ("convention", "reset_after")):
            if not descriptor.uses(variant) and getattr(self, variant) != default:
                users = "/".join(a.name for a in archs() if a.uses(variant))
                raise UserError(f"model spec: {variant}={getattr(self, variant)!r} applies to {users} only, "
                                f"not {self.arch}")
        if impl.check is not None:
            impl.check(self)
        if self.forget_bias is not None:
            if self.arch != "lstm":
                raise UserError(f"model spec: forget_bias applies to lstm only, not {self.arch}")
            fb = self.forget_bias
            if isinstance(fb, bool) or not isinstance(fb, (int, float)) or not math.isfinite(fb):
                raise UserError(f"model spec: forget_bias must be a finite number or None, got {fb!r}")
        check_choice(self.output, OUTPUTS, "output")
        check_choice(self.head, HEADS, "head")
        check_choice(self.dtype, DTYPES, "dtype")
        for key in ("input_size", "hidden", "output_size", "layers"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UserError(f"model spec: {key} must be a positive integer, got {value!r}")
        if descriptor.check is not None:
            descriptor.check(self)

    @property
    def attention_heads(self) -> int:
        if self.num_heads:
            return self.num_heads
        return next(h for h in (4, 2, 1) if self.hidden % h == 0)

    @property
    def ff_width(self) -> int:
        return self.ff or 4 * self.hidden

    @property
    def name(self) -> str:
        """Short model id, e.g. 'gru-torch', 'gru-keras-reset_before', 'mingru-torch-sequential'."""
        base = f"{self.arch}-{self.framework}"
        if self.convention != "reset_after":       # only an arch that varies it gets here (__post_init__)
            base += f"-{self.convention}"
        if self.scan != "parallel":
            base += f"-{self.scan}"
        if self.forget_bias is not None:
            base += f"-{forget_bias_variant(self.forget_bias)}"
        return base

    def with_(self, **changes) -> "ModelSpec":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)
