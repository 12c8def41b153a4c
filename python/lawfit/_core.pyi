"""Typed stubs of the Rust extension ``lawfit._core``."""

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
