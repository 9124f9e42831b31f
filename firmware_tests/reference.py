"""The testbench's reference: the integer golden model, in pure Python (no cocotb import).

It says what the RTL must receive and return for any vectors: the input codes the input port
carries, packed into the port's integer, and the exact output integers.
"""

from pathlib import Path

import numpy as np

from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.preprocess import append_peak


class MlpReference:
    """Expected behaviour of ``uvhunt_top`` for the golden model in ``golden_path``; with
    ``peak_input`` the design takes the window's codes and computes the last input itself."""

    def __init__(self, golden_path: Path, peak_input: bool = False):
        self.golden = GoldenMLP.read(Path(golden_path)).compile()
        self.peak_input = peak_input

    @property
    def inputs(self) -> int:
        return self.golden.sizes[0] - int(self.peak_input)

    @property
    def input_bits(self) -> int:
        return self.golden.input_quant.bits

    def input_codes(self, q: np.ndarray) -> np.ndarray:
        """(vectors, inputs) int64: the input quantizer's integers (saturated, rounded)."""
        if self.peak_input:  # integer codes (the trace requires them): saturation is a clip
            spec = self.golden.input_quant
            return np.clip(q, spec.low, spec.high).astype(np.int64)
        return self.golden.input_codes(q)

    def expected(self, q: np.ndarray) -> np.ndarray:
        """(vectors,) int64: the last accumulator the RTL must put on ``out_data``."""
        if self.peak_input:
            return self.golden.predict_int(append_peak(self.input_codes(q)))
        return self.golden.predict_int(q)

    def pack(self, codes: np.ndarray) -> list[int]:
        """Each row of input codes as the ``in_data`` integer: input j in bits
        [B*j + B-1 : B*j], two's complement, B = ``input_bits``."""
        bits = self.input_bits
        if bits % 8:
            mask = (1 << bits) - 1
            return [sum((int(c) & mask) << (bits * j) for j, c in enumerate(row)) for row in codes]
        dtype = {8: "<i1", 16: "<i2", 32: "<i4"}[bits]
        return [int.from_bytes(row.tobytes(), "little") for row in codes.astype(dtype)]


def load_stimulus(path: Path) -> dict[str, np.ndarray]:
    """The stimulus file: named groups of input vectors (vectors, inputs), integers."""
    with np.load(Path(path)) as data:
        return {name: data[name] for name in data.files}
