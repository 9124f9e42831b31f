"""Floor division by a constant in shallow logic, for the trigger core's peak input ⌊S/5⌋.

Over a known range lo…hi, ⌊x / d⌋ = ⌊(x + o) · M / 2**k⌋ − o / d, with the offset o the
least multiple of d that makes x + o ≥ 0, M = ⌈2**k / d⌉ and k the least shift that makes
it exact on every x of the range (checked one by one when the logic is built). The product
is a sum of shifted copies, one per set bit of M: adders on the carry chains, a few LUT levels
between registers, where a division (Yosys's ``$div``) is a chain of comparisons (9 LUT levels
in the default core, 11 with 8-bit inputs) and a ``$mul`` would take a DSP48.
"""

from amaranth.hdl import C, Cat

MAX_SHIFT = 32
"""Largest shift k tried, bits."""


def divide_constants(lo: int, hi: int, divisor: int) -> tuple[int, int, int]:
    """(offset o, multiplier M, shift k) for ⌊x / ``divisor``⌋ over x in ``lo``…``hi``."""
    if divisor < 1 or lo > hi:
        raise ValueError(f"need a positive divisor and lo <= hi (got {divisor}, {lo}…{hi})")
    offset = -(lo // divisor) * divisor if lo < 0 else 0
    span = range(lo + offset, hi + offset + 1)
    for shift in range(MAX_SHIFT + 1):
        multiplier = -(-(1 << shift) // divisor)
        if all((x * multiplier) >> shift == x // divisor for x in span):
            return offset, multiplier, shift
    raise ValueError(f"no shift up to {MAX_SHIFT} divides {lo}…{hi} by {divisor} exactly")


def floor_divide(value, lo: int, hi: int, divisor: int):
    """An Amaranth expression equal to ⌊``value`` / ``divisor``⌋ for every ``value`` in
    ``lo``…``hi`` (outside it, undefined); signed."""
    offset, multiplier, shift = divide_constants(lo, hi, divisor)
    shifted = (value + offset).as_unsigned()  # ≥ 0 on the range: the same bits
    terms = [shifted << bit for bit in range(multiplier.bit_length()) if multiplier >> bit & 1]
    quotient = sum(terms[1:], terms[0]) >> shift
    return Cat(quotient, C(0, 1)).as_signed() - offset // divisor
