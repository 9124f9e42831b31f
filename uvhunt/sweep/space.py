"""The design space a sweep explores and its points: hidden sizes, each layer's weight bits,
the pruned fraction and the resource penalty. A point's key hashes everything its figures
depend on, so a sweep that stops resumes from the points it already has."""

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Point:
    """One design: the MLP's hidden sizes, its weight bits per layer (hidden layers, then the
    output layer), and resource-aware QAT's sparsity and penalty."""

    hidden: tuple[int, ...]
    weight_bits: tuple[int, ...]
    sparsity: float = 0.0
    penalty: float = 0.0

    def label(self) -> str:
        """Short and readable: ``32-16 w4.3.5 s0.5 p0.1``."""
        text = f"{'-'.join(map(str, self.hidden))} w{'.'.join(map(str, self.weight_bits))}"
        if self.sparsity:
            text += f" s{self.sparsity:g}"
        if self.penalty:
            text += f" p{self.penalty:g}"
        return text

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Point":
        return cls(
            tuple(data["hidden"]),
            tuple(data["weight_bits"]),
            float(data["sparsity"]),
            float(data["penalty"]),
        )


def point_key(point: Point, context: dict) -> str:
    """16 hex digits naming a point's results: the point and ``context`` (the data set's
    identity, the training and evaluation settings)."""
    payload = json.dumps({"point": point.to_dict(), **context}, sort_keys=True, default=str)
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

    def validate(self) -> "SweepSpace":
        checks = (
            ("layers", self.layers, lambda v: 1 <= v <= 4),
            ("sizes", self.sizes, lambda v: 1 <= v <= 256),
            ("weight_bits", self.weight_bits, lambda v: 2 <= v <= 6),
            ("sparsity", self.sparsity, lambda v: 0 <= v < 1),
            ("penalty", self.penalty, lambda v: v >= 0),
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
        )

    def grid(self) -> list[Point]:
        """Every point of the space, in a fixed order."""
        points = []
        for n in self.layers:
            for hidden in itertools.product(self.sizes, repeat=n):
                if any(b > a for a, b in itertools.pairwise(hidden)):
                    continue
                for bits in itertools.product(self.weight_bits, repeat=n + 1):
                    for s, p in itertools.product(self.sparsity, self.penalty):
                        points.append(Point(hidden, bits, s, p))
        return points

    def params(self, point: Point) -> dict:
        """The Optuna parameters that ``suggest`` turns into ``point`` (to enqueue it)."""
        values = {"layers": len(point.hidden), "sparsity": point.sparsity}
        values["penalty"] = point.penalty
        values.update({f"size{i}": h for i, h in enumerate(point.hidden)})
        values.update({f"bits{i}": b for i, b in enumerate(point.weight_bits)})
        return values

    def to_dict(self) -> dict:
        return asdict(self)
