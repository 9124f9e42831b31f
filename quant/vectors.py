"""Test vectors that stress a quantized network: the full signed range, zeros, extremes,
input and activation saturation, and exact rounding ties in every ReLU requantization.

Every stage that must equal the golden model (QONNX, C simulation, RTL) is checked on them.
"""

import numpy as np

from uvhunt.quant.config import ModelConfig
from uvhunt.quant.golden import GoldenMLP, IntegerLayer


def make_vectors(golden: GoldenMLP, config: ModelConfig, seed: int) -> dict[str, np.ndarray]:
    """Named groups of (N, length) int32 input vectors."""
    rng = np.random.default_rng(seed)
    n, low, high = config.inputs, golden.input_quant.low, golden.input_quant.high
    alternating = np.where(np.arange(n) % 2 == 0, high, low)
    first = golden.layers[0].weight  # (inputs, outputs)
    extremes = np.stack(
        [
            np.zeros(n),
            np.full(n, high),
            np.full(n, low),
            alternating,
            alternating[::-1],
            np.full(n, 1),
            np.full(n, -1),
        ]
    )
    beyond = rng.integers(4 * low, 4 * high, (64, n))  # saturate the input quantizer
    # Each first-layer unit driven to its largest and smallest accumulator, and noisy
    # versions: saturates the activations.
    push = np.where(first.T > 0, high, low)
    pull = np.where(first.T > 0, low, high)
    noisy = np.where(
        rng.random((8, *push.shape)) < 0.8, push, rng.integers(low, high + 1, push.shape)
    )
    saturating = np.concatenate(
        [push, pull, noisy.reshape(-1, n), rng.choice([low, high], (500, n))]
    )
    deeper = [
        climb(golden, index, unit, rng.choice([low, high], n))
        for index in range(1, len(golden.layers) - 1)
        for unit in range(golden.layers[index].weight.shape[1])
    ]
    vectors = {
        "random": rng.integers(low, high + 1, (8000, n)),
        "extremes": np.concatenate([extremes, beyond]),
        "saturating": np.concatenate([saturating, *deeper]) if deeper else saturating,
    }
    pool = rng.integers(low, high + 1, (60000, n))
    trace = golden.trace(pool)
    for index, layer in enumerate(golden.layers[:-1]):
        tie = tie_mask(trace["accumulators"][index], layer)
        found = pool[tie.any(axis=1)]
        vectors[f"ties_layer{index}"] = found[:1500]
    return {name: v.astype(np.int32) for name, v in vectors.items()}


def climb(
    golden: GoldenMLP, layer: int, unit: int, start: np.ndarray, steps: int = 60
) -> np.ndarray:
    """Drive one deeper unit's accumulator up: flip single inputs to the other extreme while
    that raises it (greedy coordinate ascent). Returns the path (the vectors visited)."""
    low, high = golden.input_quant.low, golden.input_quant.high
    x, path = start.copy(), []
    best = golden.trace(x[None])["accumulators"][layer][0, unit]
    for _ in range(steps):
        candidates = np.repeat(x[None], len(x), axis=0)
        diagonal = np.arange(len(x))
        candidates[diagonal, diagonal] = np.where(x == high, low, high)
        acc = golden.trace(candidates)["accumulators"][layer][:, unit]
        if acc.max() <= best:
            break
        best, x = acc.max(), candidates[acc.argmax()]
        path.append(x)
    return np.array(path).reshape(-1, len(x))


def tie_mask(acc: np.ndarray, layer: IntegerLayer) -> np.ndarray:
    """Where ReLU requantization lands exactly halfway between two integers (in range)."""
    shift = layer.shift
    if shift <= 0:
        return np.zeros(acc.shape, dtype=bool)
    rest = acc & ((1 << shift) - 1)
    return (acc > 0) & (rest == 1 << (shift - 1)) & ((acc >> shift) < layer.output_quant.high)


def stimulus(
    golden: GoldenMLP, config: ModelConfig, windows: np.ndarray, total: int, seed: int
) -> dict[str, np.ndarray]:
    """``make_vectors`` plus the real ``windows`` (input integers) and random vectors over the
    input range up to ``total`` vectors in all: what every firmware check compares."""
    groups = make_vectors(golden, config, seed)
    groups["windows"] = np.asarray(windows)
    missing = total - sum(len(v) for v in groups.values())
    if missing > 0:
        rng = np.random.default_rng(seed + 1)
        low, high = golden.input_quant.low, golden.input_quant.high
        groups["random_fill"] = rng.integers(low, high + 1, (missing, config.inputs)).astype(
            np.int32
        )
    return groups


def peak_window_groups(
    groups: dict[str, np.ndarray], length: int, low: int, high: int, seed: int
) -> dict[str, np.ndarray]:
    """The vectors for a design that computes the peak input itself (it takes the window's
    ``length`` codes only): each group's window columns, clipped to the codes ``low…high``,
    then windows that stress the peak — every code as a constant window (sums at exact
    multiples of 5, both extremes), a 5-frame pulse of random height at every position, and
    two equal pulses (ties)."""
    rng = np.random.default_rng(seed)
    out = {name: np.clip(g[:, :length], low, high).astype(np.int32) for name, g in groups.items()}
    constant = np.repeat(np.arange(low, high + 1)[:, None], length, axis=1)
    starts = np.arange(length - 4)
    pulses = rng.integers(low, high + 1, (len(starts) * 8, length))
    ties = rng.integers(low, high // 2 + 1, (len(starts) * 8, length))
    for row, start in enumerate(np.repeat(starts, 8)):
        pulses[row, start : start + 5] = rng.integers(0, high + 1)
        other = (start + 5 + rng.integers(0, length - 9)) % (length - 4)
        if abs(other - start) >= 5:
            height = rng.integers(high // 2, high + 1)
            ties[row, start : start + 5] = height
            ties[row, other : other + 5] = height
    out["peak_constant"] = constant.astype(np.int32)
    out["peak_pulses"] = pulses.astype(np.int32)
    out["peak_ties"] = ties.astype(np.int32)
    return out
