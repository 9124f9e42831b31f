"""The design space a sweep explores and its points: hidden sizes, each layer's weight bits,
the pruned fraction, the resource penalty, the peak input and the input bits. A point's key
hashes everything its figures depend on, so a sweep that stops resumes from the points it
already has."""

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass, replace

from uvhunt.quant.preprocess import Preprocessing

DEFAULT_INPUT_BITS = Preprocessing().bits
"""The network inputs' bits of the default preprocessing (8); a point's label names other ones."""


@dataclass(frozen=True)
class Point:
    """One design: the MLP's hidden sizes, its weight bits per layer (hidden layers, then the
    output layer), resource-aware QAT's sparsity and penalty, and whether the network gets
    the window's peak ``⌊S/5⌋`` as one input more (``Preprocessing.peak_input``), and the
    bits of its inputs, the window's codes saturated to that signed range
    (``Preprocessing.bits``, at the default shift)."""

    hidden: tuple[int, ...]
    weight_bits: tuple[int, ...]
    sparsity: float = 0.0
    penalty: float = 0.0
    peak_input: bool = False
    input_bits: int = DEFAULT_INPUT_BITS

    def label(self) -> str:
        """Short and readable: ``32-16 w4.3.5 s0.5 p0.1 i6 peak`` (``i6``: 6-bit inputs, said
        only when not the default's)."""
        text = f"{'-'.join(map(str, self.hidden))} w{'.'.join(map(str, self.weight_bits))}"
        if self.sparsity:
            text += f" s{self.sparsity:g}"
        if self.penalty:
            text += f" p{self.penalty:g}"
        if self.input_bits != DEFAULT_INPUT_BITS:
            text += f" i{self.input_bits}"
        if self.peak_input:
            text += " peak"
        return text

    def preprocessing(self, base: Preprocessing) -> Preprocessing:
        """``base`` (the sweep's model preprocessing) with this point's peak input and input
        bits: what its training, export and synthesis all use."""
        return replace(base, peak_input=self.peak_input, bits=self.input_bits)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_label(cls, text: str) -> "Point":
        """The point a ``label`` names (``32-16 w4.3.5 s0.5 p0.1 i6 peak``); ValueError if
        none."""
        words = text.split()
        try:
            hidden = tuple(int(h) for h in words[0].split("-"))
            if not words[1].startswith("w"):
                raise ValueError
            bits = tuple(int(b) for b in words[1][1:].split("."))
            extra = {"sparsity": 0.0, "penalty": 0.0, "peak_input": False}
            for word in words[2:]:
                if word == "peak":
                    extra["peak_input"] = True
                elif word[0] == "i" and word[1:]:
                    extra["input_bits"] = int(word[1:])
                elif word[0] in "sp" and word[1:]:
                    extra["sparsity" if word[0] == "s" else "penalty"] = float(word[1:])
                else:
                    raise ValueError
        except (ValueError, IndexError):
            raise ValueError(
                f"{text!r} is not a design such as '32-16 w4.3.5 s0.5 p0.1 i6 peak'"
            ) from None
        if len(bits) != len(hidden) + 1:
            raise ValueError(f"{text!r}: give one weight width per layer ({len(hidden) + 1})")
        return cls(hidden, bits, **extra)

    @classmethod
    def from_dict(cls, data: dict) -> "Point":
        return cls(
            tuple(data["hidden"]),
            tuple(data["weight_bits"]),
            float(data["sparsity"]),
            float(data["penalty"]),
            bool(data.get("peak_input", False)),
            int(data.get("input_bits", DEFAULT_INPUT_BITS)),
        )


def point_key(point: Point, context: dict) -> str:
    """16 hex digits naming a point's results: the point and ``context`` (the data set's
    identity, the training and evaluation settings). A point without the peak input, at the
    default input bits, keeps the key it had before those were dimensions."""
    described = point.to_dict()
    if not point.peak_input:
        described.pop("peak_input")
    if point.input_bits == DEFAULT_INPUT_BITS:
        described.pop("input_bits")
    payload = json.dumps({"point": described, **context}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SweepSpace:
    """The choices of each dimension."""

    layers: tuple[int, ...] = (1, 2)
    """Numbers of hidden layers."""
    sizes: tuple[int, ...] = (4, 8, 16, 32, 64)
    """Hidden layer sizes (a later layer is never wider than the one before)."""
    weight_bits: tuple[int, ...] = (2, 3, 4, 5, 6)
    """Weight bits, chosen per layer."""
    sparsity: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75)
    penalty: tuple[float, ...] = (0.0, 0.05, 0.2)
    peak_input: tuple[bool, ...] = (False, True)
    """Without and with the peak input."""
    input_bits: tuple[int, ...] = (DEFAULT_INPUT_BITS,)
    """Bits of the network's inputs (the default's alone unless asked: a choice the sampler
    makes only when there are several, so the default space asks what it asked before)."""

    def validate(self) -> "SweepSpace":
        checks = (
            ("layers", self.layers, lambda v: 1 <= v <= 4),
            ("sizes", self.sizes, lambda v: 1 <= v <= 256),
            ("weight_bits", self.weight_bits, lambda v: 2 <= v <= 6),
            ("sparsity", self.sparsity, lambda v: 0 <= v < 1),
            ("penalty", self.penalty, lambda v: v >= 0),
            ("peak_input", self.peak_input, lambda v: isinstance(v, bool)),
            ("input_bits", self.input_bits, lambda v: 2 <= v <= 16),
        )
        for name, values, ok in checks:
            if not values or not all(ok(v) for v in values):
                raise ValueError(f"sweep {name} choices out of range or empty: {list(values)}")
        return self

    def suggest(self, trial) -> Point:
        """A point from an Optuna trial (the same parameters for the same trial history)."""
        n = trial.suggest_categorical("layers", list(self.layers))
        hidden, width = [], max(self.sizes)
        for i in range(n):
            size = trial.suggest_categorical(f"size{i}", list(self.sizes))
            width = min(width, size)  # never wider than the layer before
            hidden.append(width)
        bits = [trial.suggest_categorical(f"bits{i}", list(self.weight_bits)) for i in range(n + 1)]
        return Point(
            tuple(hidden),
            tuple(bits),
            trial.suggest_categorical("sparsity", list(self.sparsity)),
            trial.suggest_categorical("penalty", list(self.penalty)),
            trial.suggest_categorical("peak_input", list(self.peak_input)),
            trial.suggest_categorical("input_bits", list(self.input_bits))
            if len(self.input_bits) > 1
            else self.input_bits[0],
        )

    def grid(self) -> list[Point]:
        """Every point of the space, in a fixed order."""
        points = []
        for n in self.layers:
            for hidden in itertools.product(self.sizes, repeat=n):
                if any(b > a for a, b in itertools.pairwise(hidden)):
                    continue
                for bits in itertools.product(self.weight_bits, repeat=n + 1):
                    for s, p, peak, inputs in itertools.product(
                        self.sparsity, self.penalty, self.peak_input, self.input_bits
                    ):
                        points.append(Point(hidden, bits, s, p, peak, inputs))
        return points

    def params(self, point: Point) -> dict:
        """The Optuna parameters that ``suggest`` turns into ``point`` (to enqueue it)."""
        values = {"layers": len(point.hidden), "sparsity": point.sparsity}
        values["penalty"] = point.penalty
        values["peak_input"] = point.peak_input
        if len(self.input_bits) > 1:
            values["input_bits"] = point.input_bits
        values.update({f"size{i}": h for i, h in enumerate(point.hidden)})
        values.update({f"bits{i}": b for i, b in enumerate(point.weight_bits)})
        return values

    def to_dict(self) -> dict:
        return asdict(self)
