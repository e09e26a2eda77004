"""The feature-matrix folder: exact round trips, column and block reads, whole-or-nothing writes, damage."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from isograph.dataset.matrix import open_matrix, write_matrix, write_matrix_blocks
from isograph.errors import InputError


def _table(n_samples: int = 7, n_features: int = 23, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.random((n_samples, n_features))
    values[rng.random(values.shape) < 0.2] = np.nan
    return pd.DataFrame(values, index=pd.Index([f"S{i}" for i in range(n_samples)], name="sample_id"),
                        columns=[f"T{j}" for j in range(n_features)])


def _files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_round_trip_is_exact_in_float64_and_to_float32_precision(tmp_path):
    table = _table()
    matrix = open_matrix(write_matrix(table, tmp_path / "f.matrix", block_bytes=8 * 7 * 5))  # 5 features a block
    frame = matrix.frame()
    pd.testing.assert_frame_equal(frame, table, check_column_type=False, check_index_type=False)
    assert np.shares_memory(frame.to_numpy(), matrix.values)  # a view of the memory map, no copy
    assert matrix.shape == (7, 23) and matrix.values.flags.c_contiguous and matrix.values.shape == (23, 7)
    small = open_matrix(write_matrix(table, tmp_path / "f32.matrix", dtype="float32")).frame()
    np.testing.assert_allclose(small.to_numpy(), table.to_numpy(), rtol=6e-8)
    assert small.dtypes.eq(np.float64).all()


def test_columns_keep_the_order_asked_and_leave_out_unknown_ids(tmp_path):
    table = _table()
    matrix = open_matrix(write_matrix(table, tmp_path / "f.matrix"))
    got = matrix.columns(["T9", "T2", "nope", "T22"])
    pd.testing.assert_frame_equal(got, table[["T9", "T2", "T22"]], check_column_type=False, check_index_type=False)
    assert matrix.rows_of(["T22", "x", "T0"]).tolist() == [22, -1, 0]


def test_blocks_are_bounded_and_cover_the_rows_in_order(tmp_path):
    table = _table(n_samples=10, n_features=50)
    matrix = open_matrix(write_matrix(table, tmp_path / "f.matrix"))
    rows = np.array([3, 4, 5, 40, 41, 7, 8])
    parts = list(matrix.blocks(rows, max_bytes=8 * 10 * 3))  # three features of 10 samples a block
    assert [len(r) for r, _ in parts] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate([r for r, _ in parts]), rows)
    np.testing.assert_array_equal(np.vstack([v for _, v in parts]), table.to_numpy().T[rows])


def test_bad_writes_change_nothing_and_say_why(tmp_path):
    table = _table()
    path = write_matrix(table, tmp_path / "f.matrix")
    before = _files(path)

    def failing():
        yield np.zeros((5, 7))
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError, match="disk gone"):
        write_matrix_blocks(path, table.index, table.columns, failing())
    with pytest.raises(InputError, match="a block of shape \\(5, 6\\) does not fit 23 features x 7 samples"):
        write_matrix_blocks(path, table.index, table.columns, [np.zeros((5, 6))])
    with pytest.raises(InputError, match="10 feature rows written for 23 feature IDs"):
        write_matrix_blocks(path, table.index, table.columns, [np.zeros((10, 7))])
    with pytest.raises(InputError, match="duplicate feature ID 'T1'"):
        write_matrix_blocks(path, table.index, ["T1", "T1"], [np.zeros((2, 7))])
    with pytest.raises(InputError, match="name ends in .matrix"):
        write_matrix(table, tmp_path / "f.parquet")
    assert _files(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".isograph.lock", "f.matrix"]  # no staging left


@pytest.mark.parametrize(("failpoint", "survives"), [("staged", "old"), ("journal", "new"), ("moved-all", "new")])
def test_kill_9_while_writing_leaves_one_whole_matrix(tmp_path, failpoint, survives):
    old, new = _table(seed=0), _table(seed=1)
    path = write_matrix(old, tmp_path / "f.matrix")
    new.to_parquet(tmp_path / "new.parquet")
    code = ("import pandas as pd\nfrom isograph.dataset.matrix import write_matrix\n"
            f"write_matrix(pd.read_parquet({str(tmp_path / 'new.parquet')!r}), {str(path)!r})\n")
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "ISOGRAPH_FAILPOINT": failpoint},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    got = open_matrix(path).frame()  # a reader rolls a journalled commit forward
    pd.testing.assert_frame_equal(got, old if survives == "old" else new, check_column_type=False,
                                  check_index_type=False)


def test_a_damaged_matrix_is_one_line(tmp_path):
    path = write_matrix(_table(), tmp_path / "f.matrix")
    data = (path / "values.npy").read_bytes()
    (path / "values.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"f.matrix: not a readable feature matrix .*re-create it"):
        open_matrix(path)
    (path / "values.npy").write_bytes(data)
    pd.DataFrame({"feature_id": ["a", "b"]}).to_parquet(path / "features.parquet")
    with pytest.raises(InputError, match=r"values.npy is float64 \(23, 7\) but the folder lists 2 features x 7 samples"):
        open_matrix(path)
    with pytest.raises(InputError, match="feature matrix not found"):
        open_matrix(tmp_path / "none.matrix")


def test_caches_see_a_rewritten_matrix(tmp_path):
    """The data-set layer keys its caches on a .matrix folder's values.npy, which every rewrite replaces."""
    from isograph.dataset.cache import cached, stamp

    path = write_matrix(_table(seed=0), tmp_path / "f.matrix")
    first = stamp(path)
    assert first == stamp(path / "values.npy") and first[0] > 0
    assert cached(open_matrix, path).columns(["T0"]).equals(_table(seed=0)[["T0"]])
    write_matrix(_table(seed=1), path)
    assert stamp(path) != first
    assert cached(open_matrix, path).columns(["T0"]).equals(_table(seed=1)[["T0"]])
