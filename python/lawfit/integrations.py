"""Training-framework integrations. Each is import-guarded: the framework is needed only to use it.

``HFForecastCallback`` feeds a Hugging Face ``Trainer``'s logged losses into a
:class:`lawfit.Forecaster` and forecasts the rest of the run at the end of training (or whenever
``callback.forecaster.forecast()`` is called).
"""

from __future__ import annotations

from typing import Any

from lawfit.forecast import Forecaster


def hf_forecast_callback(
    schedule: Any, *, loss_key: str = "loss", min_points: int = 20, report_every: int | None = None
) -> Any:
    """A ``transformers.TrainerCallback`` that forecasts the run's loss curve.

    Parameters
    ----------
    schedule : Schedule or array_like
        The run's planned per-step LR (``lr[i]`` for step ``i + 1``; the Trainer's global step).
    loss_key : str, default "loss"
        Key of the loss in the Trainer's logs (``"eval_loss"`` for evaluation losses).
    min_points : int, default 20
        Logged losses needed before forecasting.
    report_every : int, optional
        Also print a forecast every this many logged points.

    Raises
    ------
    ImportError
        If ``transformers`` is not installed.
    """
    try:
        from transformers import TrainerCallback
    except ImportError as exc:
        raise ImportError("the Hugging Face callback needs transformers: pip install transformers") from exc

    class HFForecastCallback(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.forecaster = Forecaster(schedule, min_points=min_points)
            self.n_logged = 0

        def on_log(
            self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any
        ) -> None:
            if logs and loss_key in logs and state.global_step >= 1:
                self.forecaster.update(state.global_step, float(logs[loss_key]))
                self.n_logged += 1
                if report_every and self.n_logged >= min_points and self.n_logged % report_every == 0:
                    print(self.forecaster.forecast().summary())

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.n_logged >= min_points:
                print(self.forecaster.forecast().summary())

    return HFForecastCallback()
