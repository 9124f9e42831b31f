import numpy as np
import pytest
from amaranth.hdl import Module, Signal, signed
from amaranth.sim import Simulator

from uvhunt.hls.constant_divide import divide_constants, floor_divide

RANGES = [
    (-160, 155, 5),  # the peak input's S of 6-bit codes: 5 × (−32 … 31)
    (-640, 635, 5),  # of 8-bit codes
    (-20, 15, 5),  # 2-bit codes
    (0, 1000, 7),
    (-1000, -3, 3),
    (-5, 5, 1),
]


@pytest.mark.parametrize("lo,hi,divisor", RANGES)
def test_the_logic_divides_every_value_of_its_range_exactly(lo, hi, divisor):
    m = Module()
    x, quotient = Signal(signed(12)), Signal(signed(12))
    m.d.comb += quotient.eq(floor_divide(x, lo, hi, divisor))
    values = np.arange(lo, hi + 1)
    got = []

    async def bench(ctx):
        for v in values:
            ctx.set(x, int(v))
            await ctx.delay(1e-9)
            got.append(ctx.get(quotient))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    np.testing.assert_array_equal(np.array(got), values // divisor)  # floor, also below 0


def test_the_constants_are_the_least_shift_that_is_exact():
    offset, multiplier, shift = divide_constants(-160, 155, 5)
    assert (offset, multiplier, shift) == (160, 205, 10)
    span = np.arange(0, 316)
    np.testing.assert_array_equal((span * multiplier) >> shift, span // 5)
    smaller = -(-(1 << (shift - 1)) // 5)
    assert np.any((span * smaller) >> (shift - 1) != span // 5)


def test_bad_ranges_are_refused():
    with pytest.raises(ValueError, match="positive divisor"):
        divide_constants(0, 10, 0)
    with pytest.raises(ValueError, match="lo <= hi"):
        divide_constants(10, 0, 5)
