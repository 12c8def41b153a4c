"""Task-performance and data laws (extra ``tasks``: scipy), one module each.

- :mod:`lawfit.tasks.passuntil`: PassUntil pass-rate estimator and the task law PU(N) = exp(−c·N^−α)
- :mod:`lawfit.tasks.downstream`: log-likelihood → p(correct) → accuracy / Brier; correlation with compute
- :mod:`lawfit.tasks.pruning`: prototype difficulty, keep-easy/keep-hard, power law vs exponential
- :mod:`lawfit.tasks.projektor`: stage-2 extrapolation, stage-1 regression on OT distances, mixtures
- :mod:`lawfit.tasks.trajectories`: score vs training tokens across checkpoints and sizes

The modules import scipy (and the optional POT / scikit-learn) only when used; ``lawfit`` itself
re-exports their main functions lazily (``lf.estimate_pass_rate`` …).
"""

TASK_MODULES = ("passuntil", "downstream", "pruning", "projektor", "trajectories")
