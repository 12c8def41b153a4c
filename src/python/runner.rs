//! Running core work from Python: one rayon pool per process (rebuilt after a fork), the GIL
//! released around the work, Ctrl-C and progress callbacks watched from the calling thread.

use super::prelude::*;

// ---- per-process thread pool (fork safety) ----
// After `fork` only the forking thread exists in the child, so a rayon pool inherited from the
// parent has no workers and any `par_iter` on it would wait forever. The process that first calls
// lawfit (the origin) runs its work on the calling thread with rayon's global pool, as a plain
// rayon program does (no hand-off to a pool thread: small calls stay cheap). Any other process —
// a forked child, whose inherited global pool may be dead — never touches the global pool: its
// work runs inside `pool.install` on a pool of its own, keyed by the process id and built on the
// first call (the parent's stale pool is leaked, not dropped, since dropping would touch latches a
// parent thread may have held at the fork). `process_pool` is only called with the GIL held, and
// `os.fork` holds the GIL, so no thread is inside the mutex when a Python-level fork happens. Pools
// are sized like rayon's global pool (`RAYON_NUM_THREADS`, else one thread per logical CPU);
// results do not depend on the thread count (the kernels split work in fixed chunks).

/// The process that made the first lawfit call: it uses rayon's global pool.
static ORIGIN_PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

/// This process's own pool, or `None` in the origin process (which uses the global pool).
pub(crate) fn own_pool() -> PyResult<Option<Arc<rayon::ThreadPool>>> {
    let pid = std::process::id();
    if *ORIGIN_PID.get_or_init(|| pid) == pid {
        return Ok(None);
    }
    process_pool().map(Some)
}

/// Run `work` on this process's threads: directly (global pool) in the origin process, inside
/// its own pool's `install` in any other (see [`own_pool`]).
pub(crate) fn in_own_pool<T: Send>(pool: Option<&rayon::ThreadPool>, work: impl FnOnce() -> T + Send) -> T {
    match pool {
        None => work(),
        Some(pool) => pool.install(work),
    }
}

pub(crate) struct ProcessPool {
    pid: u32,
    pool: Arc<rayon::ThreadPool>,
}

pub(crate) static PROCESS_POOL: std::sync::Mutex<Option<ProcessPool>> = std::sync::Mutex::new(None);

/// The rayon pool of the current process, built on first use in each process.
pub(crate) fn process_pool() -> PyResult<Arc<rayon::ThreadPool>> {
    let mut slot = PROCESS_POOL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let pid = std::process::id();
    if let Some(current) = slot.as_ref().filter(|p| p.pid == pid) {
        return Ok(current.pool.clone());
    }
    let pool =
        rayon::ThreadPoolBuilder::new().thread_name(|i| format!("lawfit-{i}")).build().map_err(|e| {
            pyo3::exceptions::PyRuntimeError::new_err(format!("lawfit: cannot start threads: {e}"))
        })?;
    let pool = Arc::new(pool);
    if let Some(stale) = slot.replace(ProcessPool { pid, pool: pool.clone() }) {
        std::mem::forget(stale);
    }
    Ok(pool)
}

/// Run `work` without the GIL on this process's threads (see [`own_pool`]).
pub(crate) fn detach_in_pool<T: Send>(py: Python<'_>, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    let pool = own_pool()?;
    Ok(py.detach(move || in_own_pool(pool.as_deref(), work)))
}

/// The number of threads of this process's lawfit pool (for tests and diagnostics).
#[pyfunction]
pub(crate) fn pool_threads() -> PyResult<usize> {
    Ok(own_pool()?.map_or_else(rayon::current_num_threads, |p| p.current_num_threads()))
}

// ---- end per-process thread pool ----

/// A Python callable `callback(done, total)` told how many solves of a multi-start finished.
pub(crate) struct Progress {
    counter: Arc<AtomicUsize>,
    total: usize,
    callback: Py<PyAny>,
}

/// Run `work` off the GIL on a scoped thread while this thread watches for Ctrl-C (and reports
/// progress); the work polls the returned flag between iterations and stops with
/// [`Error::Interrupted`].
pub(crate) fn run_interruptible<T: Send>(
    py: Python<'_>,
    progress: Option<&Progress>,
    work: impl FnOnce(&(dyn Fn() -> bool + Sync)) -> Result<T, Error> + Send,
) -> PyResult<T> {
    let pool = own_pool()?;
    let interrupted = AtomicBool::new(false);
    let mut reported = usize::MAX;
    let mut callback_error: Option<PyErr> = None;
    let result = py.detach(|| {
        std::thread::scope(|scope| {
            // The worker wakes this thread when it finishes, so short calls do not wait out a
            // whole polling interval.
            let waiter = std::thread::current();
            let flag = &interrupted;
            let handle = scope.spawn(move || {
                let out = in_own_pool(pool.as_deref(), || work(&|| flag.load(Ordering::Relaxed)));
                waiter.unpark();
                out
            });
            while !handle.is_finished() {
                std::thread::park_timeout(Duration::from_millis(20));
                if handle.is_finished() {
                    break;
                }
                Python::attach(|py| {
                    if py.check_signals().is_err() {
                        interrupted.store(true, Ordering::Relaxed);
                    }
                    if let Some(p) = progress {
                        let done = p.counter.load(Ordering::Relaxed).min(p.total);
                        if done != reported && callback_error.is_none() {
                            reported = done;
                            if let Err(e) = p.callback.call1(py, (done, p.total)) {
                                callback_error = Some(e);
                                interrupted.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                });
            }
            handle.join()
        })
    });
    if let Some(e) = callback_error {
        return Err(e);
    }
    match result {
        Ok(r) => r.map_err(to_py),
        Err(_) => Err(pyo3::exceptions::PyRuntimeError::new_err("lawfit internal error: a worker panicked")),
    }
}

/// Attach a progress counter to `opts` when Python passed a callback.
pub(crate) fn progress_of(
    opts: &mut LmOptions,
    callback: Option<Py<PyAny>>,
    total: usize,
) -> Option<Progress> {
    callback.map(|callback| {
        let counter = Arc::new(AtomicUsize::new(0));
        opts.progress = Some(counter.clone());
        Progress { counter, total, callback }
    })
}
