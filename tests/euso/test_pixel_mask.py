"""Pixel masks: reading the two file forms, refusing bad files with the fix, writing
atomically, and finding the dead and hot pixels of a simulated session."""

import numpy as np
import pytest

from uvhunt._core.errors import UvhuntError
from uvhunt.euso.bad_pixels import find_bad_pixels, find_mask
from uvhunt.euso.conditions import ConditionRanges
from uvhunt.euso.pixel_mask import read_mask, write_mask
from uvhunt.euso.readers import open_movie
from uvhunt.euso.session import SessionConfig, SessionSimulator
from uvhunt.euso.store import write_session


def _mask():
    mask = np.zeros((48, 48), bool)
    mask[0, 0] = mask[5, 47] = mask[47, 13] = True
    return mask


def test_npy_of_bools_or_ints_and_text_read_alike(tmp_path):
    mask = _mask()
    np.save(tmp_path / "bools.npy", mask)
    np.save(tmp_path / "ints.npy", mask.astype(np.uint8))
    lines = ["# hot pixels of 2019-10-07", *("".join(str(int(b)) for b in row) for row in mask)]
    lines[3] = " ".join(lines[3])  # spaces between digits are allowed
    (tmp_path / "mask.txt").write_text("\n".join(lines) + "\n\n")
    for name in ("bools.npy", "ints.npy", "mask.txt"):
        got = read_mask(tmp_path / name)
        np.testing.assert_array_equal(got.excluded, mask)
        assert got.count == 3 and str(tmp_path / name) in got.source
    assert got.describe()["excluded"] == [[0, 0], [5, 47], [47, 13]]
    np.testing.assert_array_equal(got.flat()[[0, 287, 288]], [True, True, False])
    assert got.flat(100).sum() == 1  # the first 100 pixels in row order


def test_write_mask_writes_a_bool_npy_atomically(tmp_path):
    write_mask(tmp_path / "out" / "mask.npy", _mask().astype(int))
    back = np.load(tmp_path / "out" / "mask.npy")
    assert back.dtype == bool and back.sum() == 3
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["mask.npy"]
    with pytest.raises(ValueError, match="48×48"):
        write_mask(tmp_path / "bad.npy", np.zeros((4, 4)))
    assert not (tmp_path / "bad.npy").exists()


def _text(rows):
    return "\n".join(rows) + "\n"


GOOD_ROW = "0" * 48
BAD_FILES = {
    "missing.npy": (None, "no such mask file"),
    "shape.npy": (np.zeros((48, 47), bool), "shape (48, 47)"),
    "three_d.npy": (np.zeros((1, 48, 48), bool), "shape (1, 48, 48)"),
    "twos.npy": (np.full((48, 48), 2), "holds 2 at pixel (0, 0)"),
    "halves.npy": (np.full((48, 48), 0.5), "holds 0.5"),
    "strings.npy": (np.full((48, 48), "1"), "dtype <U1"),
    "broken.npy": (b"\x93NUMPY garbage", "not a readable .npy"),
    "short.txt": (_text([GOOD_ROW] * 47), "47 rows of digits, expected 48"),
    "long_row.txt": (_text([GOOD_ROW + "0"] + [GOOD_ROW] * 47), "line 1 has 49 digits"),
    "letters.txt": (_text([GOOD_ROW] * 10 + ["x" * 48] + [GOOD_ROW] * 37), "line 11 holds"),
    "digit_two.txt": (_text(["2" + "0" * 47] + [GOOD_ROW] * 47), "holds 2 at pixel (0, 0)"),
    "binary.txt": (b"\xff\xfe\x00", "not a readable text file"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_mask_files_are_refused_naming_file_problem_and_fix(tmp_path, name):
    content, words = BAD_FILES[name]
    path = tmp_path / name
    if isinstance(content, np.ndarray):
        np.save(path, content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(UvhuntError) as caught:
        read_mask(path)
    message = caught.value.message
    assert str(path) in message and words in message and "fix: give a 48×48" in message


@pytest.fixture(scope="module")
def bad_pixel_session(tmp_path_factory):
    """512 frames with 4 hot and 5 dead pixels (the simulator's detector imperfections)."""
    folder = tmp_path_factory.mktemp("bad_pixels") / "session"
    ranges = ConditionRanges(hot_pixels=(4, 4), dead_pixels=(5, 5))
    write_session(SessionSimulator(SessionConfig(frames=512, conditions=ranges), seed=1), folder)
    return folder


def test_found_mask_catches_the_simulated_hot_and_dead_pixels(bad_pixel_session):
    detector = np.load(bad_pixel_session / "detector.npz")
    hot, dead = detector["hot_rate"] > 0, detector["efficiency"] == 0
    movie = open_movie(bad_pixel_session)
    found = find_bad_pixels(movie)
    np.testing.assert_array_equal(found.dead, dead)
    assert (found.hot & hot).sum() == hot.sum() == 4
    assert (found.hot & ~hot).sum() <= 2  # few others
    assert 0.03 < found.spread < 0.1
    mask = find_mask(movie)
    np.testing.assert_array_equal(mask.excluded, found.hot | found.dead)
    assert mask.details["dead"] == 5 and "median over 32-frame blocks" in mask.details["rule"]
    # the same movie in counts per GTU gives the same mask
    frames = np.asarray(movie.read(0, movie.frames)) / 16_384
    np.savez(bad_pixel_session.parent / "per_gtu.npz", movie=frames, units="per_gtu")
    again = find_mask(open_movie(bad_pixel_session.parent / "per_gtu.npz"))
    np.testing.assert_array_equal(again.excluded, mask.excluded)
