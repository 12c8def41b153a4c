"""Framework integrations: import-guarded, with a clear message when the framework is missing."""

import importlib.util

import lawfit as lf
import pytest
from lawfit.integrations import hf_forecast_callback

HAS_TRANSFORMERS = importlib.util.find_spec("transformers") is not None


def test_hf_callback_without_transformers_names_the_package():
    sched = lf.schedules.parse("cosine:total=1000,peak=3e-4,warmup=10")
    if HAS_TRANSFORMERS:
        cb = hf_forecast_callback(sched)
        assert hasattr(cb, "on_log")
    else:
        with pytest.raises(ImportError, match="pip install transformers"):
            hf_forecast_callback(sched)
