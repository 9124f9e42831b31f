"""Pixel masks: the known dead and hot pixels a trigger must ignore, as a 48×48 file.

A mask is a (48, 48) bool array, ``True`` (1) = the pixel is excluded from triggering. On
disk it is either a ``.npy`` array of bools or of the integers 0 and 1, or a text file of 48
lines of 48 digits ``0``/``1`` (row 0 first, column 0 leftmost; spaces and blank lines are
ignored, lines starting with ``#`` are comments).
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from uvhunt._core.atomic import atomic_file
from uvhunt._core.errors import UvhuntError
from uvhunt.euso.geometry import N_SIDE

FIX = (
    "give a 48×48 .npy array of bools or 0/1, or a text file of 48 lines of 48 digits 0/1 "
    "(1 = pixel excluded)"
)


@dataclass(frozen=True)
class PixelMask:
    """A mask and where it came from."""

    excluded: np.ndarray
    """(48, 48) bool: True = the pixel never triggers."""
    source: str
    """Where the mask came from (a file, or the movie it was found in)."""
    details: dict = field(default_factory=dict)
    """How it was found (``bad_pixels.find_bad_pixels``), if it was."""

    @property
    def count(self) -> int:
        return int(self.excluded.sum())

    def flat(self, pixels: int = N_SIDE * N_SIDE) -> np.ndarray:
        """The first ``pixels`` pixels' flags in row order (pixel index row × 48 + column)."""
        return self.excluded.reshape(-1)[:pixels].copy()

    def describe(self) -> dict:
        return {
            "pixels": self.count,
            "source": self.source,
            "excluded": [[int(r), int(c)] for r, c in np.argwhere(self.excluded)],
            **self.details,
        }


def no_mask() -> PixelMask:
    """Every pixel live."""
    return PixelMask(np.zeros((N_SIDE, N_SIDE), bool), "none")


def read_mask(path: Path) -> PixelMask:
    """The mask in ``path`` (``.npy`` or text, see the module docstring); UvhuntError naming
    the problem on a missing, unreadable or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise UvhuntError("no such mask file", path=path, fix=FIX, setting="mask")
    if path.suffix.lower() == ".npy":
        values = _read_npy(path)
    else:
        values = _read_text(path)
    if values.shape != (N_SIDE, N_SIDE):
        raise UvhuntError(
            f"the mask has shape {values.shape}, expected (48, 48)", path=path, fix=FIX
        )
    bad = ~np.isin(values, (0, 1))
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raise UvhuntError(
            f"the mask holds {values[r, c].item()!r} at pixel ({r}, {c}); only 0 and 1 are allowed",
            path=path,
            fix=FIX,
        )
    return PixelMask(values.astype(bool), f"file {path}")


def write_mask(path: Path, mask: np.ndarray) -> None:
    """Write a (48, 48) mask as a ``.npy`` bool array, atomically."""
    mask = np.asarray(mask)
    if mask.shape != (N_SIDE, N_SIDE):
        raise ValueError(f"a mask is 48×48 (got {mask.shape})")
    with atomic_file(Path(path)) as partial, open(partial, "wb") as f:
        np.save(f, mask.astype(bool))


def _read_npy(path: Path) -> np.ndarray:
    try:
        values = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise UvhuntError(
            f"not a readable .npy file, or truncated ({exc})", path=path, fix=FIX
        ) from exc
    if values.dtype != bool and not np.issubdtype(values.dtype, np.number):
        raise UvhuntError(f"the mask has dtype {values.dtype}", path=path, fix=FIX)
    return values


def _read_text(path: Path) -> np.ndarray:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UvhuntError(f"not a readable text file ({exc})", path=path, fix=FIX) from exc
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        line = "".join(line.split())
        if not line or line.startswith("#"):
            continue
        if not line.isdigit() or not line.isascii():
            raise UvhuntError(
                f"line {number} holds characters other than the digits 0 and 1: {line[:60]!r}",
                path=path,
                fix=FIX,
            )
        if len(line) != N_SIDE:
            raise UvhuntError(
                f"line {number} has {len(line)} digits, expected 48", path=path, fix=FIX
            )
        rows.append([int(ch) for ch in line])
    if len(rows) != N_SIDE:
        raise UvhuntError(
            f"the file has {len(rows)} rows of digits, expected 48", path=path, fix=FIX
        )
    return np.array(rows, np.int64)
