"""Cut sessions or real D3 movies into per-pixel windows of consecutive frames, labelled
meteor / not meteor from the truth (see docs/commands/windows.md for the rule)."""

from pathlib import Path

from euso.units import UNITS
from euso.windows import CENTRES
from uvhunt.console import emit, progress, table
from uvhunt.run_layout import default_folder
from uvhunt.windowing import make_windows, window_config

NAME = "windows"
HELP = "cut sessions or movies (.npy/.npz/.root) into labelled per-pixel windows"


def add_arguments(p) -> None:
    p.add_argument(
        "sources",
        nargs="+",
        type=Path,
        help="session folders, a folder of sessions, or .npy/.npz/.root movies",
    )
    p.add_argument(
        "--out", type=Path, default=default_folder("windows"), help="output folder (replaced)"
    )
    p.add_argument("--length", type=int, default=48, help="frames per window")
    p.add_argument("--stride", type=int, default=48, help="frames between window starts")
    p.add_argument(
        "--center",
        choices=CENTRES,
        default="none",
        help="'peak': move each window so its brightest frame is in the middle",
    )
    p.add_argument(
        "--label-snr",
        type=float,
        default=3.0,
        help="meteor if its signal in the window reaches this many σ of the noise",
    )
    p.add_argument(
        "--confuser-snr",
        type=float,
        default=1.0,
        help="name a non-meteor source in a window when it adds this many σ",
    )
    p.add_argument(
        "--negative-fraction",
        type=float,
        default=1.0,
        help="fraction of not-meteor windows kept (meteor and unlabelled windows are all kept)",
    )
    p.add_argument(
        "--units",
        choices=UNITS,
        default=None,
        help="units of files that do not say (unset: detected from the values)",
    )
    p.add_argument("--seed", type=int, default=0, help="seeds the choice of kept negatives")


def config_from(args):
    return window_config(
        length=args.length,
        stride=args.stride,
        center=args.center,
        label_snr=args.label_snr,
        confuser_snr=args.confuser_snr,
        negative_fraction=args.negative_fraction,
        seed=args.seed,
    )


def main(args) -> int:
    config = config_from(args)
    meta = make_windows(
        args.sources,
        args.out,
        config,
        args.units,
        lambda total: progress(total, "windows", "start", args.quiet),
    )
    meta["out"] = str(args.out)
    emit(meta, render(meta), args.json)
    return 0


def render(meta: dict) -> str:
    rows = [[s["name"], s["frames"], s["units"], s["windows"]] for s in meta["sources"]]
    c = meta["counts"]
    lines = [
        table(rows, ["source", "frames", "units", "windows"]),
        "",
        table(
            [[c["windows"], c["meteor"], c["not_meteor"], c["unknown"]]],
            ["windows", "meteor", "not meteor", "unknown"],
        ),
        "",
        "not-meteor windows holding a confuser: "
        + ", ".join(f"{k} {v:,}" for k, v in meta["confusers"].items())
        if c["unknown"] < c["windows"]
        else "no source carries truth: every window is unlabelled (label -1)",
        f"data set ({meta['units']} units) written to {meta['out']}",
    ]
    return "\n".join(lines)
