"""Write a .npy file row block by row block when the final length is not known in advance."""

from pathlib import Path

import numpy as np


class GrowingNpy:
    """Append rows to a .npy file; ``close()`` writes the final shape into the header.

    numpy reserves header room for axis 0 to grow (``GROWTH_AXIS_MAX_DIGITS``), so the
    header rewritten at the end has the same length as the one written first.
    """

    def __init__(self, path: Path, dtype, row_shape: tuple[int, ...] = ()):
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.row_shape = tuple(row_shape)
        self.rows = 0
        self._file = open(self.path, "wb")
        self._header_len = self._write_header()

    def _write_header(self) -> int:
        self._file.seek(0)
        header = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": (self.rows, *self.row_shape),
        }
        np.lib.format.write_array_header_1_0(self._file, header)
        return self._file.tell()

    def append(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        if rows.shape[1:] != self.row_shape:
            raise ValueError(f"rows of shape {rows.shape[1:]} appended to {self.row_shape}")
        self._file.write(rows.tobytes())
        self.rows += len(rows)

    def close(self) -> None:
        if self._file.closed:
            return
        end = self._file.tell()
        if self._write_header() != self._header_len:
            raise RuntimeError(f"{self.path}: .npy header changed length")
        self._file.seek(end)
        self._file.close()
