import numpy as np
import pytest
import uproot

from uvhunt._core.errors import UvhuntError
from uvhunt.euso.readers import ROOT_BRANCH, ROOT_TREE, open_movie
from uvhunt.euso.timing import D3_GTUS
from uvhunt.euso.units import PER_GTU, RAW, detect_units, to_raw


def raw_movie(frames=64, seed=0):
    return np.random.default_rng(seed).poisson(16384.0, (frames, 48, 48)).astype(np.uint32)


def write_root(path, frames: np.ndarray, rntuple: bool = False):
    """A file in the Mini-EUSO layout: a TTree whose entries hold the D3 frame as
    ``float photon_count_data[1][1][48][48]``, with the frame times (or an RNTuple)."""
    data = {
        ROOT_BRANCH: frames.reshape(len(frames), 1, 1, 48, 48).astype(np.float32),
        "timestamp_unix": 1.6e9 + np.arange(len(frames)) * 0.04096,
        "gtu_time": np.arange(len(frames), dtype=np.float64) * 0.04096,
    }
    with uproot.recreate(path) as f:
        if rntuple:
            f[ROOT_TREE] = data
            return
        tree = f.mktree(ROOT_TREE, {k: np.dtype((v.dtype, v.shape[1:])) for k, v in data.items()})
        tree.extend(data)


def test_units_detection():
    movie = raw_movie()
    assert detect_units(movie) == RAW
    assert detect_units(movie / D3_GTUS) == PER_GTU
    np.testing.assert_array_equal(
        to_raw(movie / np.float32(D3_GTUS), PER_GTU), movie.astype(np.float32)
    )


def test_npy_is_read_block_by_block(tmp_path):
    movie = raw_movie()
    np.save(tmp_path / "m.npy", movie)
    m = open_movie(tmp_path / "m.npy")
    assert (m.frames, m.units, m.labelled) == (64, RAW, False)
    np.testing.assert_array_equal(m.read(10, 20), movie[10:20])


def test_npz_with_timestamps_and_per_gtu_units(tmp_path):
    movie = raw_movie() / np.float32(D3_GTUS)
    np.savez(tmp_path / "m.npz", movie=movie, timestamps=np.arange(64.0))
    m = open_movie(tmp_path / "m.npz")
    assert m.units == PER_GTU
    np.testing.assert_array_equal(m.read(0, 64), movie)
    np.testing.assert_array_equal(m.timestamps, np.arange(64.0))


def test_units_can_be_forced(tmp_path):
    np.save(tmp_path / "m.npy", raw_movie() / np.float32(D3_GTUS))
    assert open_movie(tmp_path / "m.npy", units=RAW).units == RAW


@pytest.mark.parametrize("per_gtu, rntuple", [(False, False), (True, False), (False, True)])
def test_root_file_in_the_mini_euso_layout(tmp_path, per_gtu, rntuple):
    movie = raw_movie(40).astype(np.float32)
    if per_gtu:
        movie /= D3_GTUS
    write_root(tmp_path / "session.root", movie, rntuple)
    if not rntuple:
        branch = uproot.open(tmp_path / "session.root")[ROOT_TREE][ROOT_BRANCH]
        assert branch.typename == "float[1][1][48][48]"
    m = open_movie(tmp_path / "session.root")
    assert m.frames == 40
    assert m.units == (PER_GTU if per_gtu else RAW)
    np.testing.assert_array_equal(m.read(5, 17), movie[5:17])
    np.testing.assert_allclose(m.timestamps[1] - m.timestamps[0], 0.04096, rtol=1e-5)  # unix s


def test_session_folder(session_folder):
    m = open_movie(session_folder)
    assert m.units == RAW and m.labelled and m.frames == 1024


def expect_error(path, *words):
    with pytest.raises(UvhuntError) as info:
        m = open_movie(path)
        m.read(0, m.frames)
    message = info.value.message
    assert str(path) in message
    for word in words:
        assert word in message
    assert "fix:" in message
    return message


def test_bad_numpy_inputs(tmp_path):
    np.save(tmp_path / "shape.npy", np.zeros((10, 48)))
    expect_error(tmp_path / "shape.npy", "shape (10, 48)")
    np.save(tmp_path / "square.npy", np.zeros((10, 32, 32)))
    expect_error(tmp_path / "square.npy", "(frames, 48, 48)")
    bad = raw_movie(8).astype(np.float32)
    bad[5, 3, 3] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    expect_error(tmp_path / "nan.npy", "frame 5", "NaN")
    bad[5, 3, 3] = np.inf
    np.save(tmp_path / "inf.npy", bad)
    expect_error(tmp_path / "inf.npy", "infinite")
    bad[5, 3, 3] = -4
    np.save(tmp_path / "neg.npy", bad)
    expect_error(tmp_path / "neg.npy", "negative")
    (tmp_path / "empty.npy").write_bytes(b"")
    expect_error(tmp_path / "empty.npy", "empty")
    np.save(tmp_path / "full.npy", raw_movie(8))
    data = (tmp_path / "full.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(data[: len(data) // 2])
    expect_error(tmp_path / "cut.npy", "truncated")
    np.save(tmp_path / "none.npy", np.zeros((0, 48, 48)))
    expect_error(tmp_path / "none.npy", "no frames")
    np.save(tmp_path / "text.npy", np.full((2, 48, 48), "x"))
    expect_error(tmp_path / "text.npy", "dtype")
    np.savez(tmp_path / "units.npz", movie=raw_movie(2), units="photons")
    assert "not readable" not in expect_error(tmp_path / "units.npz", "'photons'", "per_gtu")
    np.savez(tmp_path / "two.npz", a=raw_movie(2), b=raw_movie(2))
    expect_error(tmp_path / "two.npz", "'movie'")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really")
    expect_error(tmp_path / "junk.npz", "not a readable .npz")
    expect_error(tmp_path / "missing.npy", "no such file")
    (tmp_path / "movie.txt").write_text("1 2 3")
    expect_error(tmp_path / "movie.txt", "unsupported file type")
    (tmp_path / "plain").mkdir()
    expect_error(tmp_path / "plain", "not a uvhunt session")


def test_bad_root_inputs(tmp_path):
    with uproot.recreate(tmp_path / "notree.root") as f:
        f.mktree("tevent", {"photon_count_data": np.dtype((np.uint8, (1, 1, 48, 48)))})
    expect_error(tmp_path / "notree.root", ROOT_TREE, "tevent")
    with uproot.recreate(tmp_path / "nobranch.root") as f:
        f.mktree(ROOT_TREE, {"other": np.float64}).extend({"other": np.zeros(3)})
    expect_error(tmp_path / "nobranch.root", ROOT_BRANCH, "other")
    with uproot.recreate(tmp_path / "shape.root") as f:
        f.mktree(ROOT_TREE, {ROOT_BRANCH: np.dtype((np.float32, (48, 48)))}).extend(
            {ROOT_BRANCH: np.zeros((3, 48, 48), np.float32)}
        )
    expect_error(tmp_path / "shape.root", "(1, 1, 48, 48)")
    (tmp_path / "fake.root").write_bytes(b"not a root file at all" * 10)
    expect_error(tmp_path / "fake.root", "not a readable ROOT file")
    write_root(tmp_path / "good.root", raw_movie(200).astype(np.float32))
    data = (tmp_path / "good.root").read_bytes()
    (tmp_path / "cut.root").write_bytes(data[: len(data) // 3])
    expect_error(tmp_path / "cut.root")
    bad = raw_movie(4).astype(np.float32)
    bad[2, 0, 0] = -1
    write_root(tmp_path / "neg.root", bad)
    expect_error(tmp_path / "neg.root", "frame 2", "negative")
