"""The ROMs stored twice with parity: the reader serves the first word when its parity holds,
the copy when it fails (``corrected``), and flags a word whose two copies both fail
(``detected``); every single flipped bit of either copy leaves the data exact, in the
Amaranth reader (simulated) against the stored image."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from uvhunt.hls.parity_pair import PairReader, pair_image


@pytest.mark.parametrize("k", (10, 33))
def test_every_single_flip_is_served_by_the_good_copy(k):
    rng = np.random.default_rng(k)
    words = [0, (1 << k) - 1, *map(int, rng.integers(0, 1 << k, 5))]
    image = pair_image(words, k)
    assert len(image) == 2 * len(words) and image[: len(words)] == image[len(words) :]
    cases = []  # (first, copy, data, corrected, detected)
    for w, stored in zip(words, image[: len(words)], strict=True):
        cases.append((stored, stored, w, 0, 0))
        for b in range(k + 1):
            cases.append((stored ^ 1 << b, stored, w, 1, 0))  # the first flipped: the copy
            cases.append((stored, stored ^ 1 << b, w, 0, 0))  # the copy flipped: unused
        for b in (0, k):  # one flip in each: flagged
            first, copy = stored ^ 1 << b, stored ^ 1 << (k - b)
            cases.append((first, copy, None, 0, 1))
    reader = PairReader(k)
    got = []

    async def bench(ctx):
        for first, copy, *_ in cases:
            ctx.set(reader.first, first)
            ctx.set(reader.copy, copy)
            await ctx.delay(1e-9)
            got.append((ctx.get(reader.data), ctx.get(reader.corrected), ctx.get(reader.detected)))

    sim = Simulator(reader)
    sim.add_testbench(bench)
    sim.run()
    for (first, copy, data, corrected, detected), (out, c, d) in zip(cases, got, strict=True):
        assert (c, d) == (corrected, detected), (hex(first), hex(copy))
        if data is not None:
            assert out == data, (hex(first), hex(copy))


def test_a_word_too_wide_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        pair_image([1 << 10], 10)
