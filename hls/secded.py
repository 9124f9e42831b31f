"""Single-error-correcting, double-error-detecting (SECDED) codes for the trigger core's block
RAMs: Hsiao's odd-weight-column code (M. Y. Hsiao, IBM J. Res. Dev. 14, 1970), the one
memory controllers use because its decoder is the shallowest.

A ``k``-bit data word is stored with ``r`` check bits, ``word = data | checks << k``. Data bit
``i`` has a distinct ``r``-bit column of odd weight >= 3, check bit ``j`` the unit column
``1 << j``; check bit ``j`` is the parity of the data bits whose column has bit ``j``. On a
read, the syndrome (the stored checks XOR the checks of the stored data) is 0 for a clean
word, a column for a single flipped bit (data or check: corrected), and of even weight, or
of odd weight but no column, for two flipped bits (detected, not corrected).

Python (``encode``, ``decode``) builds the ROM images and checks the hardware; Amaranth
(``encoder``, ``Decoder``) is the hardware. ``correction_masks`` is the decoder's last step as
a table, the data bits to flip for each syndrome: in a block RAM addressed by the syndrome it
costs one XOR per data bit, which synthesis folds into the logic that reads the data, where
the comparisons of the syndrome with every column cost two LUTs per bit.
"""

from itertools import combinations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

CLEAN, CORRECTED, DETECTED = 0, 1, 2
"""``decode``'s status."""


def check_bits(k: int) -> int:
    """Check bits for ``k`` data bits: the fewest ``r`` with enough odd-weight columns."""
    r = 2
    while len(_odd_columns(r)) < k:
        r += 1
    return r


def _odd_columns(r: int) -> list[int]:
    """``r``-bit columns of odd weight >= 3, lightest first (fewest XOR inputs)."""
    out = []
    for weight in range(3, r + 1, 2):
        for bits in combinations(range(r), weight):
            out.append(sum(1 << b for b in bits))
    return out


def columns(k: int) -> list[int]:
    """The ``k`` data bits' columns (the lightest, balanced as they come)."""
    return _odd_columns(check_bits(k))[:k]


def parity(value: int) -> int:
    """1 when ``value`` has an odd number of set bits."""
    return bin(value).count("1") & 1


def _checks(data: int, k: int) -> int:
    cols, r = columns(k), check_bits(k)
    return sum(
        parity(sum(1 << i for i in range(k) if cols[i] >> j & 1) & data) << j for j in range(r)
    )


def encode(data: int, k: int) -> int:
    """The stored word of ``k``-bit ``data`` (``k + check_bits(k)`` bits)."""
    if not 0 <= data < 1 << k:
        raise ValueError(f"data {data} does not fit {k} bits")
    return data | _checks(data, k) << k


def decode(word: int, k: int) -> tuple[int, int]:
    """(data, status) of a stored word: the data corrected if one bit flipped."""
    data, stored = word & ((1 << k) - 1), word >> k
    syndrome = stored ^ _checks(data, k)
    if syndrome == 0:
        return data, CLEAN
    cols = columns(k)
    if syndrome in cols:
        return data ^ (1 << cols.index(syndrome)), CORRECTED
    if parity(syndrome) and syndrome & (syndrome - 1) == 0:
        return data, CORRECTED  # a check bit flipped
    return data, DETECTED


def correction_masks(k: int) -> list[int]:
    """For every ``r``-bit syndrome, the data bits a single flip asks to flip (0 for a clean
    word, a flipped check bit and a double flip)."""
    masks = [0] * (1 << check_bits(k))
    for i, col in enumerate(columns(k)):
        masks[col] = 1 << i
    return masks


def encoder(data, k: int):
    """The stored word of an Amaranth value of ``k`` bits (combinational)."""
    cols = columns(k)
    checks = [_xor([data[i] for i in range(k) if cols[i] >> j & 1]) for j in range(check_bits(k))]
    return Cat(data, *checks)


def _xor(bits):
    out = bits[0]
    for b in bits[1:]:
        out = out ^ b
    return out


class Decoder(wiring.Component):
    """Combinational: ``word`` (``k + r`` bits) in; ``data`` corrected, ``syndrome``
    (``r`` bits), ``corrected`` (one bit flipped, data or check) and ``detected`` (two or
    more, data not corrected) out."""

    def __init__(self, k: int):
        self.k, self.r = k, check_bits(k)
        super().__init__(
            {
                "word": In(k + self.r),
                "data": Out(k),
                "syndrome": Out(self.r),
                "corrected": Out(1),
                "detected": Out(1),
            }
        )

    def elaborate(self, platform):
        m = Module()
        k, cols = self.k, columns(self.k)
        data, stored = self.word[:k], self.word[k:]
        syndrome = self.syndrome
        m.d.comb += syndrome.eq(stored ^ encoder(data, k)[k:])
        hit = Signal(k)
        for i, col in enumerate(cols):
            m.d.comb += hit[i].eq(syndrome == col)
        odd = Signal()
        m.d.comb += [
            odd.eq(syndrome.xor()),
            self.data.eq(data ^ hit),
            # odd weight: one flip, corrected if it names a data column or a check bit
            self.corrected.eq(odd & (hit.any() | _one_hot(syndrome))),
            self.detected.eq(syndrome.any() & ~self.corrected),
        ]
        return m


def _one_hot(value):
    """1 when ``value`` is a unit vector (a check bit's column)."""
    return Cat(*(value == (1 << j) for j in range(len(value)))).any()
