"""Typed stubs of the Rust extension ``lawfit._core``."""

from collections.abc import Mapping, Sequence
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

class LawfitInputError(ValueError): ...

def areas(
    lr: npt.NDArray[np.float64],
    *,
    decay: float = 0.999,
    warmup_steps: int = 0,
    warmup: str = "as_peak",
    derivative: bool = False,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64] | None]: ...

def fit_momentum(*args: object, **kwargs: object) -> dict[str, object]: ...
def predict_momentum(*args: object, **kwargs: object) -> npt.NDArray[np.float64]: ...
def fit_momentum_n(*args: object, **kwargs: object) -> dict[str, object]: ...
def predict_momentum_n(*args: object, **kwargs: object) -> npt.NDArray[np.float64]: ...
def least_squares(*args: object, **kwargs: object) -> dict[str, object]: ...
# ---- multi-power law ----
MultiPowerParams = Mapping[str, float] | Sequence[float]

@overload
def multipower_predict(
    lrs_list: Sequence[npt.ArrayLike],
    indices_list: Sequence[npt.NDArray[np.int64] | Sequence[int]],
    params: MultiPowerParams,
    *,
    exact: bool = False,
    gradients: Literal[False] = False,
    s1_form: Literal["repo", "paper"] = "repo",
    warmup_steps: int | None = None,
) -> npt.NDArray[np.float64]: ...
@overload
def multipower_predict(
    lrs_list: Sequence[npt.ArrayLike],
    indices_list: Sequence[npt.NDArray[np.int64] | Sequence[int]],
    params: MultiPowerParams,
    *,
    exact: bool = False,
    gradients: Literal[True],
    s1_form: Literal["repo", "paper"] = "repo",
    warmup_steps: int | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
