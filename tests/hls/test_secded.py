"""The SECDED code of the core's history: every single flipped bit (data or check) of a word
corrected, every double flip detected and never miscorrected, in Python, in the Amaranth
decoder (simulated) and through the correction table, for the widths the core stores; the
protected core (SECDED or parity on the history) scores a stream exactly and flags nothing
when nothing flips."""

from itertools import combinations

import numpy as np
import pytest
from amaranth.hdl import Const, Module, Signal
from amaranth.sim import Simulator

from tests.core_stream import stream_beats
from tests.golden_models import random_golden
from uvhunt.firmware_tests.core_reference import CoreReference
from uvhunt.hls.core_build import core_model, make_core
from uvhunt.hls.secded import (
    CLEAN,
    CORRECTED,
    DETECTED,
    Decoder,
    check_bits,
    columns,
    correction_masks,
    decode,
    encode,
    encoder,
)
from uvhunt.quant.preprocess import MAX_RAW, Preprocessing

WIDTHS = (13, 33, 36)


@pytest.mark.parametrize("k", WIDTHS)
def test_the_code_corrects_one_flip_and_detects_two(k):
    r = check_bits(k)
    assert r == 7 if k > 20 else r == 6
    cols = columns(k)
    assert len(set(cols)) == k and all(bin(c).count("1") % 2 == 1 and c >= 7 for c in cols)
    rng = np.random.default_rng(k)
    for data in [0, (1 << k) - 1, *map(int, rng.integers(0, 1 << k, 20))]:
        word = encode(data, k)
        assert decode(word, k) == (data, CLEAN)
        for bit in range(k + r):
            assert decode(word ^ (1 << bit), k) == (data, CORRECTED), bit
        for a, b in combinations(range(k + r), 2):
            assert decode(word ^ (1 << a) ^ (1 << b), k)[1] == DETECTED, (a, b)
    with pytest.raises(ValueError, match="does not fit"):
        encode(1 << k, k)


@pytest.mark.parametrize("k", (9, *WIDTHS))
def test_the_correction_table_fixes_every_single_flip_and_nothing_else(k):
    """The core's history correction: the data XOR the table's entry at the syndrome, the
    entry forced to 0 for syndrome 0 (a clean word never reads the table)."""
    masks = correction_masks(k)
    r = check_bits(k)
    assert len(masks) == 1 << r and masks[0] == 0
    rng = np.random.default_rng(k)
    for data in [0, (1 << k) - 1, *map(int, rng.integers(0, 1 << k, 10))]:
        word = encode(data, k)
        for bit in range(k + r):
            bad = word ^ (1 << bit)
            syndrome = (bad >> k) ^ (encode(bad & ((1 << k) - 1), k) >> k)
            assert (bad & ((1 << k) - 1)) ^ masks[syndrome] == decode(bad, k)[0] == data


@pytest.mark.parametrize("k", WIDTHS)
def test_the_hardware_decoder_equals_the_code(k):
    r = check_bits(k)
    rng = np.random.default_rng(100 + k)
    words = []
    for data in [0, (1 << k) - 1, *map(int, rng.integers(0, 1 << k, 6))]:
        word = encode(data, k)
        words.append(word)
        words += [word ^ (1 << b) for b in range(k + r)]
        pairs = list(combinations(range(k + r), 2))
        for i in rng.choice(len(pairs), 40, replace=False):
            a, b = pairs[i]
            words.append(word ^ (1 << a) ^ (1 << b))
    decoder = Decoder(k)
    sim = Simulator(decoder)
    got = []

    async def bench(ctx):
        for word in words:
            ctx.set(decoder.word, word)
            await ctx.delay(1e-9)
            got.append(
                (
                    ctx.get(decoder.data),
                    ctx.get(decoder.syndrome),
                    ctx.get(decoder.corrected),
                    ctx.get(decoder.detected),
                )
            )

    sim.add_testbench(bench)
    sim.run()
    want = []
    for word in words:
        data, status = decode(word, k)
        syndrome = (word >> k) ^ (encode(word & ((1 << k) - 1), k) >> k)
        want.append((data, syndrome, int(status == CORRECTED), int(status == DETECTED)))
    np.testing.assert_array_equal(np.array(got), np.array(want))


def test_the_hardware_encoder_equals_the_code():
    for k in WIDTHS:
        for data in (0, 1, (1 << k) - 1, 0x5A5A5A5A5 & ((1 << k) - 1)):
            assert _const_value(encoder(Const(data, k), k)) == encode(data, k)


def _const_value(value) -> int:
    m = Module()
    out = Signal(len(value))
    m.d.comb += out.eq(value)
    sim = Simulator(m)
    got = []

    async def bench(ctx):
        await ctx.delay(1e-9)
        got.append(ctx.get(out))

    sim.add_testbench(bench)
    sim.run()
    return got[0]


@pytest.mark.parametrize("history_bits", [9, 12])
@pytest.mark.parametrize("mitigation", ["ecc", "parity_tmr"])
def test_the_protected_core_scores_exactly_and_flags_nothing(history_bits, mitigation):
    golden = random_golden((48, 8, 8, 1), 5, 8, (6, 5), seed=history_bits)
    preprocessing = Preprocessing(history_bits=history_bits)
    model = core_model(golden, preprocessing)
    rng = np.random.default_rng(history_bits)
    raw = rng.poisson(16_384, (56, 3)).astype(np.int64)
    raw[40:52, 1] += 7_000
    raw[:, 2] = rng.integers(0, MAX_RAW + 1, 56)  # every bit pattern of the history words
    reference = CoreReference(golden, preprocessing)
    scores = reference.scores(raw)
    thresholds = np.full(len(raw), int(np.median(scores[47:])))
    core = make_core(model, 3, 2, mitigation=mitigation)
    got = stream_beats(
        core, raw, thresholds, ("m_score", "m_trig", "m_seu_corrected", "m_seu_detected")
    )
    np.testing.assert_array_equal(got[..., 0], scores)
    np.testing.assert_array_equal(got[..., 1], reference.expected(raw, thresholds).trigger)
    assert not got[..., 2:].any()
