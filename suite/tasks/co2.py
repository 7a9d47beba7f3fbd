"""Weekly atmospheric CO2 at Mauna Loa, 1958-03-29 .. 2001-12-29 (statsmodels.datasets.co2: 2,284
weeks, 59 missing, bundled with statsmodels, no download): one-step (or h-step) forecasting.

Preparation: the 59 gaps are filled by linear interpolation; the series s is cut chronologically
into train (earliest), val and test (latest) segments (70/15/15 by default); s is standardised with
the train segment's mean and standard deviation (z = (s - mu_train) / sd_train).
Windows never cross a segment boundary (inputs and target lie in the same segment), so the time
ranges of the three splits are disjoint and ordered. A window ending at step t - h predicts step t:
    x = (z_{t-h-W+1}, ..., z_{t-h})   (W = window, h = horizon)      y = z_t
Shapes: x (N, W, 1) float32, y (N, 1) float32; output 'last', head 'regression', loss MSE.
Output is the single value h steps ahead (not the whole path), so O = 1 for any horizon.
Windows are in time order; the data do not depend on the seed.

Baselines, both from the model's own inputs:
    persistence     y_hat = z_{t-h}                       (the last input)
    seasonal-naive  y_hat = z_{t-P}, P = 52 ceil(h / 52)  (same week one year earlier; needs W >= P - h + 1)
The headline baseline is the better (lower test MSE) of the two; both are in ``info``.
Metrics: 'mse' (headline) and 'mae' on the scaled series; multiply MSE by info['scale']^2 for ppm^2.

Target (time to quality, ``TaskData.target``; co2 has no 'solved' threshold): validation MSE 0.05 (scaled), below
every architecture's plateau at horizons 1 and 4. Measured with PyTorch models at the matched budget of 10,000
parameters, lr 3e-3, batch 64, 960 updates, seed 100: best validation MSE GRU 0.003 / 0.009 (h = 1 / 4), LSTM
0.003 / 0.014, Transformer 0.037 / 0.031; persistence scores 0.003 / 0.014 there, so no model beat the naive
predictor (its training state reads 'not started').
"""
from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from suite.errors import UserError
from suite.schema import PositiveFloat, PositiveInt
from suite.tasks import scoring
from suite.tasks.base import Split, Task, TaskData, TaskOptions

SEASON = 52   # weeks per year (the seasonal-naive lag)
TARGET_MSE = 0.05   # time-to-quality target (docstring)


def load_series() -> tuple[np.ndarray, np.ndarray]:
    """(weekly ppm values with gaps interpolated, week dates as datetime64[D])."""
    import statsmodels.datasets.co2 as co2
    frame = co2.load_pandas().data
    values = frame["co2"].interpolate(method="linear").to_numpy(dtype=np.float64)
    return values, frame.index.to_numpy().astype("datetime64[D]")


class CO2Options(TaskOptions):
    window: PositiveInt = Field(52, description="W: past weeks given as input (>= 53 - horizon for the seasonal baseline)")
    horizon: PositiveInt = Field(1, description="h: forecast this many weeks after the last input")
    val_fraction: PositiveFloat = Field(0.15, description="fraction of the weeks (after train) for validation")
    test_fraction: PositiveFloat = Field(0.15, description="fraction of the weeks (the latest) for test")


class CO2Task(Task):
    name = "co2"
    description = "forecast weekly Mauna Loa CO2 (statsmodels) h weeks ahead from the past W weeks"
    Options = CO2Options

    def __init__(self, **options):
        super().__init__(**options)
        c = self.options
        if c.window < self.seasonal_lag - c.horizon + 1:
            raise UserError(f"task co2: option 'window' must be >= {self.seasonal_lag - c.horizon + 1} "
                            f"(one season before the target, for the seasonal-naive baseline), got {c.window}")
        if c.val_fraction + c.test_fraction >= 0.9:
            raise UserError("task co2: options 'val_fraction' + 'test_fraction' must be < 0.9")

    @property
    def seasonal_lag(self) -> int:
        return SEASON * math.ceil(self.options.horizon / SEASON)

    def segments(self, n: int) -> dict[str, tuple[int, int]]:
        """[start, stop) week indices of each split, in time order."""
        n_test = round(self.options.test_fraction * n)
        n_val = round(self.options.val_fraction * n)
        n_train = n - n_val - n_test
        return {"train": (0, n_train), "val": (n_train, n_train + n_val), "test": (n_train + n_val, n)}

    def windows(self, z: np.ndarray, start: int, stop: int) -> tuple[Split, np.ndarray]:
        """All windows inside [start, stop), and their target indices t."""
        W, h = self.options.window, self.options.horizon
        targets = np.arange(start + W + h - 1, stop)                 # t
        if len(targets) == 0:
            raise UserError(f"task co2: a split of {stop - start} weeks is shorter than window + horizon "
                            f"= {W + h}; lower 'window' or raise the split fractions")
        cols = targets[:, None] - h - np.arange(W - 1, -1, -1)       # (N, W): t-h-W+1 .. t-h
        x = z[cols][:, :, None].astype(np.float32)                   # (N, W, 1)
        y = z[targets][:, None].astype(np.float32)                   # (N, 1)
        return Split(x, y), targets

    def load(self, seed: int) -> TaskData:
        values, dates = load_series()
        seg = self.segments(len(values))
        mu, sd = values[:seg["train"][1]].mean(), values[:seg["train"][1]].std()
        z = (values - mu) / sd
        splits, ranges = {}, {}
        for name, (start, stop) in seg.items():
            splits[name], targets = self.windows(z, start, stop)
            first_input = targets[0] - self.options.horizon - self.options.window + 1
            ranges[name] = (str(dates[first_input]), str(dates[targets[-1]]))
        test = splits["test"]
        baselines = {"persistence": self.metrics(self.persistence_outputs(test), test.y)["mse"],
                     "seasonal-naive": self.metrics(self.seasonal_outputs(test), test.y)["mse"]}
        best = min(baselines, key=baselines.get)
        return TaskData(
            name=self.name, train=splits["train"], val=splits["val"], test=test, input_size=1,
            output_size=1, output="last", head="regression", metric="mse", higher_is_better=False,
            baseline=baselines[best], baseline_name=best, solved=None, target=TARGET_MSE,
            info={"source": "statsmodels.datasets.co2 (Mauna Loa weekly CO2, 59 gaps interpolated)",
                  "baselines_mse": baselines, "mean": float(mu), "scale": float(sd),
                  "date_ranges": ranges, "horizon": self.options.horizon})

    def persistence_outputs(self, split: Split) -> np.ndarray:
        return split.x[:, -1, :]                                      # z_{t-h}, (N, 1)

    def seasonal_outputs(self, split: Split) -> np.ndarray:
        column = self.options.window - 1 + self.options.horizon - self.seasonal_lag
        return split.x[:, column, :]                                  # z_{t-P}, (N, 1)

    def naive_outputs(self, data: TaskData, split: Split) -> np.ndarray:
        """The headline baseline's forecasts (the better of the two on test)."""
        if data.baseline_name == "persistence":
            return self.persistence_outputs(split)
        return self.seasonal_outputs(split)

    def metrics(self, outputs, y) -> dict[str, float]:
        outputs, y = scoring.check_shapes(outputs, y, "regression")
        loss = scoring.mse(outputs, y)
        return {"mse": loss, "loss": loss, "mae": scoring.mae(outputs, y)}
