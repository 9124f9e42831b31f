"""Command-line options shared by the stages that build or train the MLP."""

import argparse

from uvhunt._core.errors import UvhuntError
from uvhunt.quant.config import ModelConfig, TrainConfig
from uvhunt.quant.preprocess import Preprocessing

DEFAULT_MODEL = ModelConfig(preprocessing=Preprocessing(bits=6, peak_input=True))
"""The commands' default network: the library's ``ModelConfig()`` with the peak input on,
worth +0.018 in QAT window AUC and fewer false events in the core, and 6-bit inputs (the
codes saturated at ±1,024 raw counts about the baseline), worth +0.008 more and a network
that catches twice the meteors alone; the core's peak gate keeps 8-bit codes
(docs/quantization.md)."""
DEFAULT_TRAIN = TrainConfig()


def add_model_arguments(p) -> None:
    d = DEFAULT_MODEL
    p.add_argument(
        "--hidden", default=",".join(map(str, d.hidden)), help="hidden layer sizes, comma-separated"
    )
    p.add_argument(
        "--input-bits",
        type=int,
        default=d.preprocessing.bits,
        help="bits of the network's integer inputs",
    )
    p.add_argument(
        "--input-shift",
        type=int,
        default=d.preprocessing.shift,
        help="right shift of the baseline-subtracted raw counts, bits",
    )
    p.add_argument(
        "--history-bits",
        type=int,
        default=d.preprocessing.history_bits,
        help="bits of the shifted history the trigger stores per pixel and frame (differences "
        "from the newest frame wrap beyond them); 0: baseline of the raw counts, then the shift",
    )
    p.add_argument(
        "--peak-input",
        action=argparse.BooleanOptionalAction,
        default=d.preprocessing.peak_input,
        help="give the network one input more: the window's peak, ⌊S/5⌋ (S: its largest sum "
        "of 5 consecutive inputs), computed in the trigger core beside the peak gate "
        "(--no-peak-input: the 48 window codes only)",
    )
    p.add_argument(
        "--weight-bits",
        type=int,
        default=d.weight_bits,
        help="bits of the signed weights (power-of-two scale per layer)",
    )
    p.add_argument(
        "--layer-weight-bits",
        default="",
        help="bits of each layer's weights instead (hidden layers, then the output layer), "
        "comma-separated, e.g. 4,3,6",
    )
    p.add_argument(
        "--activation-bits",
        type=int,
        default=d.activation_bits,
        help="bits of the unsigned ReLU outputs",
    )
    p.add_argument(
        "--bias-bits",
        type=int,
        default=d.bias_bits,
        help="bits of the biases, at the accumulator's scale",
    )


def add_train_arguments(p) -> None:
    t = DEFAULT_TRAIN
    p.add_argument(
        "--negatives",
        type=int,
        default=t.negatives,
        help="not-meteor training windows drawn from the training sessions",
    )
    p.add_argument(
        "--confuser-negatives",
        type=int,
        default=t.confuser_negatives,
        help="hard negatives drawn on top: not-meteor windows where a city or ship light, "
        "lightning, an ELVE or a hot pixel shows",
    )
    p.add_argument(
        "--mined-negatives",
        type=int,
        default=t.mined_negatives,
        help="hard negatives mined after a first training: the not-meteor windows it scores "
        "highest, added before training again (0: no mining)",
    )
    p.add_argument(
        "--max-epochs",
        type=int,
        default=t.max_epochs,
        help="epochs of float training at most (early stopping ends sooner)",
    )
    p.add_argument(
        "--sparsity",
        type=float,
        default=t.sparsity,
        help="resource-aware QAT: fraction of each layer's weights pruned (smallest first) "
        "during fine-tuning",
    )
    p.add_argument(
        "--prune-epochs",
        type=int,
        default=t.prune_epochs,
        help="QAT epochs over which the pruned fraction rises to --sparsity",
    )
    p.add_argument(
        "--resource-penalty",
        type=float,
        default=t.resource_penalty,
        help="resource-aware QAT: weight of the adder-graph cost (input bits × weight digits) "
        "in the QAT loss, relative to its starting value",
    )
    p.add_argument(
        "--distillation",
        type=float,
        default=t.distillation,
        help="weight of the teacher's meteor probability (XGBoost on the window's five "
        "features, fitted on the same training windows) in each training target, the label's "
        "the rest; 0: the labels alone",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=t.seed,
        help="seed: of the sessions (in run), the window sampling and the training",
    )


def model_config(args) -> ModelConfig:
    try:
        hidden = tuple(int(h) for h in str(args.hidden).split(",") if h.strip())
    except ValueError as exc:
        raise UvhuntError(
            f"--hidden {args.hidden!r} is not a list of integers",
            fix="give sizes like --hidden 32,16",
        ) from exc
    try:
        layer_bits = tuple(int(b) for b in str(args.layer_weight_bits).split(",") if b.strip())
    except ValueError as exc:
        raise UvhuntError(
            f"--layer-weight-bits {args.layer_weight_bits!r} is not a list of integers",
            fix="give one width per weight layer, like --layer-weight-bits 4,3,6",
        ) from exc
    config = ModelConfig(
        hidden=hidden,
        weight_bits=args.weight_bits,
        layer_weight_bits=layer_bits,
        activation_bits=args.activation_bits,
        bias_bits=args.bias_bits,
        preprocessing=Preprocessing(
            shift=args.input_shift,
            bits=args.input_bits,
            history_bits=args.history_bits,
            peak_input=args.peak_input,
        ),
    )
    try:
        return config.validate()
    except ValueError as exc:
        raise UvhuntError(
            f"invalid model setting: {exc}", fix="see `uvhunt train --help` for the allowed values"
        ) from exc


def train_config(args) -> TrainConfig:
    config = TrainConfig(
        negatives=args.negatives,
        confuser_negatives=args.confuser_negatives,
        mined_negatives=args.mined_negatives,
        max_epochs=args.max_epochs,
        sparsity=args.sparsity,
        prune_epochs=args.prune_epochs,
        resource_penalty=args.resource_penalty,
        distillation=args.distillation,
        seed=args.seed,
    )
    try:
        return config.validate()
    except ValueError as exc:
        raise UvhuntError(
            f"invalid training setting: {exc}",
            fix="see `uvhunt train --help` for the allowed values",
        ) from exc
