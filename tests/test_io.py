"""Log readers: formats, column auto-detection, repairs, garbage."""

import json
import warnings

import lawfit as lf
import numpy as np
import pytest


def _write_csv(path, header, rows, sep=","):
    path.write_text(sep.join(header) + "\n" + "\n".join(sep.join(str(v) for v in r) for r in rows) + "\n")


def test_csv_per_step_lr(tmp_path):
    lr = np.linspace(1e-3, 1e-4, 50)
    rows = [(i + 1, 3.0 - 0.01 * i, lr[i]) for i in range(50)]
    _write_csv(tmp_path / "log.csv", ["step", "loss", "lr"], rows)
    c = lf.read_log(tmp_path / "log.csv")
    np.testing.assert_array_equal(c.steps, np.arange(1, 51))
    np.testing.assert_allclose(c.lr, lr, rtol=1e-15)


@pytest.mark.parametrize(
    "cols", [("_step", "train/loss", "learning_rate"), ("iter", "train_loss", "train/lr")]
)
def test_autodetect_tsv(tmp_path, cols):
    rows = [(i + 1, 3.0 - 0.01 * i, 1e-3) for i in range(20)]
    _write_csv(tmp_path / "log.tsv", cols, rows, sep="\t")
    c = lf.read_log(tmp_path / "log.tsv")
    assert len(c) == 20


def test_wandb_export_and_sparse_lr(tmp_path):
    header = ["Step", "run1 - train/loss", "run1 - train/loss__MIN", "run1 - learning_rate"]
    rows = [(s, 3.0 - s * 1e-4, 0, 1e-3 * (1 - s / 2000)) for s in range(10, 1001, 10)]
    _write_csv(tmp_path / "wandb.csv", header, rows)
    with pytest.warns(lf.LogFormatWarning, match="interpolating"):
        c = lf.read_log(tmp_path / "wandb.csv")
    assert c.lr.size == 1000
    np.testing.assert_allclose(c.lr[99], 1e-3 * (1 - 100 / 2000))
    np.testing.assert_allclose(c.loss[0], 3.0 - 10e-4)


def test_jsonl_duplicates_unsorted_zero_based(tmp_path):
    recs = [{"step": s, "loss": 3.0 - s * 1e-3} for s in (0, 2, 1, 3, 2)]
    recs[-1]["loss"] = 9.0  # restart re-logs step 2: the last value wins
    (tmp_path / "log.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = lf.read_log(tmp_path / "log.jsonl", schedule="constant:total=10,peak=1e-3")
    msgs = " ".join(str(w.message) for w in caught)
    assert "0-based" in msgs and "sorted" in msgs and "duplicate" in msgs
    np.testing.assert_array_equal(c.steps, [1, 2, 3, 4])
    assert c.loss[2] == 9.0


def test_missing_columns_and_garbage(tmp_path):
    _write_csv(tmp_path / "a.csv", ["step", "loss"], [(1, 3.0)])
    with pytest.raises(lf.LawfitInputError, match="schedule"):
        lf.read_log(tmp_path / "a.csv")
    with pytest.raises(lf.LawfitInputError, match="not found"):
        lf.read_log(tmp_path / "a.csv", loss="val")
    (tmp_path / "b.csv").write_bytes(b"\x00\x01\x02garbage\xff" * 100)
    with pytest.raises(lf.LawfitInputError, match="binary"):
        lf.read_log(tmp_path / "b.csv")
    (tmp_path / "c.jsonl").write_text("{not json}\n")
    with pytest.raises(lf.LawfitInputError, match="JSON"):
        lf.read_log(tmp_path / "c.jsonl")
    with pytest.raises(FileNotFoundError):
        lf.read_log(tmp_path / "missing.csv")


def test_reads_shared_llmc_log():
    from datadir import DATA

    path = DATA / "llmc_gpt2_124m" / "main.log.train.csv"
    c = lf.read_log(path, loss="train_loss")
    assert len(c) > 19000 and c.lr.size >= len(c)
    assert c.lr.max() == pytest.approx(6e-4, rel=1e-3)


def test_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"_step": [3, 1, 2], "train/loss": [2.7, 3.0, 2.8], "learning_rate": [1e-3, 1e-3, 1e-3]})
    pq.write_table(table, tmp_path / "log.parquet")
    with pytest.warns(lf.LogFormatWarning, match="sorted"):
        c = lf.read_log(tmp_path / "log.parquet")
    np.testing.assert_array_equal(c.steps, [1, 2, 3])
    np.testing.assert_array_equal(c.loss, [3.0, 2.8, 2.7])
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(lf.LawfitInputError, match="Parquet"):
        lf.read_log(tmp_path / "bad.parquet")


def test_curve_subset_keeps_schedule_warmup_name_and_size():
    import lawfit as lf

    lr = np.linspace(1e-3, 1e-4, 100)
    c = lf.Curve(np.arange(10, 101, 10), np.linspace(3.0, 2.0, 10), lr, warmup_steps=5, name="run", N=1e8)
    for keep in (c.steps > 50, np.array([5, 7, 9])):
        s = c.subset(keep)
        np.testing.assert_array_equal(s.steps, c.steps[keep])
        np.testing.assert_array_equal(s.loss, c.loss[keep])
        np.testing.assert_array_equal(s.lr, c.lr)
        assert (s.warmup_steps, s.name, s.N, s.warmup_inferred) == (5, "run", 1e8, c.warmup_inferred)
