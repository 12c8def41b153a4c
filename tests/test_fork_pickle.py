"""lawfit under process pools: forked children (whether or not the parent used lawfit's threads),
spawn pools and ProcessPoolExecutor give the parent's answers bit for bit; every public class,
exception and warning pickles."""

from __future__ import annotations

import concurrent.futures
import importlib
import inspect
import multiprocessing
import pickle
import pkgutil
import subprocess
import sys
import warnings

import lawfit as lf
import numpy as np
import pytest
from lawfit import schedules
from subprocs import interrupt
from sweep_data import bad_fit, fit_summary, synthetic_runs
from threads import ROOT

SEEDS = [0, 1, 2, 3]
TIMEOUT = 300  # s: a hung pool fails the test instead of hanging the suite


def _map(ctx_name: str, seeds: list[int]) -> list[tuple[float, ...]]:
    ctx = multiprocessing.get_context(ctx_name)
    with warnings.catch_warnings():
        # Python ≥ 3.12 warns that forking a multi-threaded process may deadlock: what we test.
        warnings.simplefilter("ignore", DeprecationWarning)
        pool = ctx.Pool(2)
    try:
        return pool.map_async(fit_summary, seeds).get(timeout=TIMEOUT)
    finally:
        pool.terminate()
        pool.join()


def test_parent_fit_uses_the_thread_pool():
    assert lf._core.pool_threads() >= 1
    fit_summary(0)  # the parent has now run parallel work on lawfit's pool


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_after_a_parent_fit_is_bit_identical(method):
    serial = [fit_summary(s) for s in SEEDS]  # the parent uses lawfit's threads first
    assert _map(method, SEEDS) == serial


def test_process_pool_executor_is_bit_identical():
    serial = [fit_summary(s) for s in SEEDS]
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as ex:
        assert list(ex.map(fit_summary, SEEDS, timeout=TIMEOUT)) == serial
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as ex:
        assert list(ex.map(fit_summary, SEEDS, timeout=TIMEOUT)) == serial


@pytest.mark.parametrize("parent_fits_first", [False, True])
def test_fork_in_a_fresh_interpreter(parent_fits_first):
    """Both orders in a clean process (this test process has already used lawfit)."""
    code = (
        "import multiprocessing, sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from sweep_data import fit_summary\n"
        f"serial = [fit_summary(s) for s in {SEEDS}] if {parent_fits_first} else None\n"
        "with multiprocessing.get_context('fork').Pool(2) as pool:\n"
        f"    forked = pool.map_async(fit_summary, {SEEDS}).get(timeout={TIMEOUT})\n"
        f"serial = serial or [fit_summary(s) for s in {SEEDS}]\n"
        "print(forked == serial)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=2 * TIMEOUT, check=True)
    assert out.stdout.strip() == "True", out.stderr


def test_nested_fork_after_fork():
    """A forked child that forks again (a pool inside a pool worker) still computes."""
    code = (
        "import multiprocessing, os, sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from sweep_data import fit_summary\n"
        "def inner(seed):\n"
        "    with multiprocessing.get_context('fork').Pool(1) as p:\n"
        f"        return p.map_async(fit_summary, [seed]).get(timeout={TIMEOUT})[0]\n"
        "ref = fit_summary(1)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(0 if inner(1) == ref else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=2 * TIMEOUT, check=True)
    assert out.stdout.strip() == "0", out.stderr


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_errors_cross_a_process_pool(method):
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(1) as pool, pytest.raises(lf.LawfitInputError, match="delta") as info:
        pool.apply_async(bad_fit, (-1.0,)).get(timeout=TIMEOUT)
    assert type(info.value) is lf.LawfitInputError
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as ex:
        with pytest.raises(lf.LawfitInputError, match="delta"):
            ex.submit(bad_fit, 0.0).result(timeout=TIMEOUT)


# ---- pickling ----


def _roundtrip(obj):
    return pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def _lawfit_modules():
    """Every lawfit module whose optional dependencies are installed (the test extra has them all)."""
    import lawfit

    mods = [lawfit]
    for info in pkgutil.walk_packages(lawfit.__path__, "lawfit."):
        if info.name in ("lawfit.__main__",):
            continue
        mods.append(importlib.import_module(info.name))
    return mods


def _exception_classes():
    found = {}
    for mod in _lawfit_modules():
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__.startswith("lawfit"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def test_every_exception_and_warning_class_is_found():
    names = {cls.__name__ for cls in _exception_classes().values()}
    assert {"LawfitInputError", "LawfitTypeError", "ConvergenceWarning", "LogFormatWarning",
            "IdentifiabilityWarning"} <= names


@pytest.mark.parametrize("qualname", sorted(_exception_classes()))
def test_exceptions_and_warnings_pickle(qualname):
    cls = _exception_classes()[qualname]
    # Importable by its qualified name: what pickle does.
    module = importlib.import_module(cls.__module__)
    assert getattr(module, cls.__qualname__) is cls
    err = cls("runs[3]: loss[7] is nan")
    back = _roundtrip(err)
    assert type(back) is cls and back.args == err.args and str(back) == str(err)


def test_raised_core_error_pickles():
    with pytest.raises(lf.LawfitInputError) as info:
        lf.areas(np.array([1e-3, np.nan]))
    back = _roundtrip(info.value)
    assert type(back) is lf.LawfitInputError and str(back) == str(info.value)


def _same_curve(a: lf.Curve, b: lf.Curve) -> None:
    assert (a.name, a.warmup_steps, a.N) == (b.name, b.warmup_steps, b.N)
    for field in ("steps", "loss", "lr"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert getattr(a, field).dtype == getattr(b, field).dtype


@pytest.mark.parametrize("schedule", [
    schedules.cosine(total_steps=1000, peak_lr=3e-4, warmup_steps=50),
    schedules.wsd(total_steps=1000, peak_lr=3e-4, warmup_steps=50),
    schedules.constant(total_steps=300, peak_lr=1e-3),
    schedules.from_array(np.linspace(1e-3, 1e-4, 200)),
], ids=str)
def test_schedules_pickle(schedule):
    back = _roundtrip(schedule)
    assert type(back) is type(schedule) and str(back) == str(schedule)
    np.testing.assert_array_equal(back.lr, schedule.lr)
    assert back.warmup_steps == schedule.warmup_steps


def test_curves_pickle():
    (run,) = synthetic_runs(1, 800)
    _same_curve(_roundtrip(run), run)
    sized = lf.Curve([1, 2, 3], [3.0, 2.9, 2.8], np.full(3, 1e-3), name="n", N=1e8)
    _same_curve(_roundtrip(sized), sized)


def _laws():
    from lawfit.laws import LAWS

    out = [cls() for cls in LAWS.values()]
    out += [lf.MomentumLaw(decay=0.99, warmup="as_peak", fit_zeta=True)]
    out += [lf.ChinchillaLaw(), lf.PowerLaw(), lf.PurePowerLaw(), lf.SaturatingPowerLaw()]
    return out


@pytest.mark.parametrize("law", _laws(), ids=repr)
def test_laws_pickle(law):
    back = _roundtrip(law)
    assert type(back) is type(law) and repr(back) == repr(law)
    assert back.param_names == law.param_names


def test_fit_result_pickles_and_still_predicts_and_bootstraps():
    (run,) = synthetic_runs(1, 3000)
    res = lf.fit(lf.MomentumLaw(), run)
    back = _roundtrip(res)
    assert back.to_dict() == res.to_dict()
    np.testing.assert_array_equal(back.cov, res.cov)
    sched = schedules.cosine(total_steps=5000, peak_lr=2e-3, warmup_steps=100)
    np.testing.assert_array_equal(back.predict(sched), res.predict(sched))
    a, b = res.bootstrap(8, seed=1), back.bootstrap(8, seed=1)
    for name in res.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])


def test_point_fit_result_pickles():
    rng = np.random.default_rng(3)
    x = np.logspace(6, 9, 30)
    y = 2.0 * x ** -0.3 + 0.5 + 1e-4 * rng.standard_normal(30)
    res = lf.fit(lf.PowerLaw(), x=x, y=y)
    assert _roundtrip(res).to_dict() == res.to_dict()


def test_batch_result_pickles():
    rng = np.random.default_rng(4)
    x = np.logspace(6, 9, 24)
    y = 2.0 * x[None, :] ** -rng.uniform(0.2, 0.4, (5, 1)) + 0.5
    res = lf.fit_many(lf.PowerLaw(), x, y)
    back = _roundtrip(res)
    assert repr(back) == repr(res) and back.options == res.options
    for name in res.params:
        np.testing.assert_array_equal(back.params[name], res.params[name])
    for field in ("success", "cost", "status", "n_points", "n_evals"):
        np.testing.assert_array_equal(getattr(back, field), getattr(res, field))


# ---- least_squares runs its Python callables from lawfit's pool ----


def test_least_squares_callables_in_a_forked_child_and_ctrl_c():
    """The solver of Python callables runs on the process pool (taking the GIL per call): it works
    in a forked child and Ctrl-C still stops it."""
    setup = (
        "import multiprocessing, time, numpy as np, lawfit as lf\n"
        "def fun(x):\n"
        "    return np.exp(-np.arange(20_000) / 5e3) * x[0] - np.exp(-np.arange(20_000) / 5e3) * 2.0\n"
        "def job(_):\n"
        "    return lf.least_squares(fun, [1.0]).x[0]\n"
        "ref = job(0)\n"
        "with multiprocessing.get_context('fork').Pool(2) as pool:\n"
        "    assert pool.map_async(job, [0, 1]).get(timeout=120) == [ref, ref]\n"
        "def slow(x):\n"
        "    time.sleep(0.3)\n"
        "    return np.array([np.exp(-x[0]), 0.1])"
    )
    out, elapsed = interrupt(setup, "lf.least_squares(slow, [1.0], ftol=1e-300, xtol=1e-300, gtol=1e-300, "
                                    "max_nfev=100_000)")
    assert out == "interrupted"  # uninterrupted, it needs ~40 s (129 calls × 0.3 s)
    assert elapsed < 10


def test_fit_with_a_prior_pickles_and_refits_the_same():
    (run,) = synthetic_runs(1, 3000, seed=5)
    res = lf.fit(lf.MomentumLaw(), run, prior={"alpha": (0.45, 0.05)})
    back = _roundtrip(res)
    assert back.to_dict() == res.to_dict()
    a, b = res.bootstrap(4, seed=2), back.bootstrap(4, seed=2)
    for name in res.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
