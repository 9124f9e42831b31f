"""Write a run folder's report: report.md and a self-contained report.html (pictures inlined)
with the session-by-session AUC table, ROC curves, efficiency versus magnitude, the bit-exact
chain, the quantization loss, resources, latency, throughput and real-time margin, and
pictures of detected meteors and rejected confusers."""

import base64
import csv
import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from uvhunt._core.atomic import atomic_dir, check_output, write_json  # noqa: E402
from uvhunt._core.errors import UvhuntError  # noqa: E402
from uvhunt.console import quality_sentence  # noqa: E402
from uvhunt.detection.event_evaluation_report import (  # noqa: E402
    OPERATING_HEADER,
    operating_rows,
)
from uvhunt.detection.events import TriggerEvent  # noqa: E402
from uvhunt.detection.plots import plot_event, plot_rejected  # noqa: E402
from uvhunt.detection.stack_coincidence import describe  # noqa: E402
from uvhunt.euso.readers import open_movie  # noqa: E402
from uvhunt.stages.resources import (  # noqa: E402
    RESOURCE_HEADERS,
    real_time_sentence,
    resource_rows,
)
from uvhunt.stages.stage import Stage  # noqa: E402

PICTURES = 3
"""Detected meteors and rejected confusers shown, each."""
CONFUSERS = ("lightning", "elve", "city", "ship")


def add_options(p) -> None:
    """None of its own: the report reads the run folder (``--run``)."""


def run(args, progress) -> dict:
    """Read every stage's results from the run's folders (``args.folders``: stage name →
    folder) and write report.md and report.html into ``args.out`` (default RUN/report)."""
    out = Path(args.out or Path(args.run) / STAGE.folder)
    check_output(out, [])
    folders = {name: Path(folder) for name, folder in args.folders.items()}
    data = _read(folders)
    with atomic_dir(out) as tmp:
        pictures = _pictures(folders, data, tmp)
        sections = _sections(data, pictures)
        (tmp / "report.md").write_text(_markdown(sections))
        (tmp / "report.html").write_text(_html(sections, tmp))
        summary = {"out": str(out), "html": str(out / "report.html"), "md": str(out / "report.md")}
        write_json(tmp / "report.json", {**summary, "sections": [s["title"] for s in sections]})
    return summary


SUMMARIES = {
    "evaluate": "summary.json",
    "export": "manifest.json",
    "firmware": "manifest.json",
    "rtl": "rtl.json",
    "cosim": "summary.json",
    "resources": "resources.json",
    "core": "summary.json",
    "detect": "detect.json",
}
"""The summary file the report reads in each stage's folder."""


def _read(folders: dict[str, Path]) -> dict:
    files = {name: folders[name] / file for name, file in SUMMARIES.items()}
    data = {}
    for name, path in files.items():
        try:
            data[name] = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise UvhuntError(
                f"the report needs the '{name}' stage's results ({exc})",
                path=path,
                fix="run that stage first (`uvhunt run` reuses what is done)",
            ) from exc
    evaluation = folders["evaluate"]
    data["auc"] = _csv(evaluation / "auc.csv")
    data["efficiency"] = _csv(evaluation / "efficiency.csv")
    data["magnitude"] = _csv(evaluation / "magnitude.csv")
    data["loss"] = _csv(evaluation / "quantization_loss.csv")
    data["events"] = json.loads((folders["detect"] / "events.json").read_text())
    data["roc"] = evaluation / "roc.png"
    sweep = folders.get("sweep")
    if sweep is not None and (sweep / "sweep.json").is_file():  # a study run apart
        data["sweep"] = json.loads((sweep / "sweep.json").read_text())
        data["sweep_plot"] = sweep / "pareto.png"
    return data


def _csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _pictures(folders: dict[str, Path], data: dict, folder: Path) -> dict[str, list[Path]]:
    """Efficiency versus magnitude, and a few detected meteors and rejected confusers."""
    best = data["evaluate"]["best_baseline"]["method"]
    magnitude = _magnitude_plot(
        data["magnitude"], ["float_mlp", "qat_mlp", best], folder / "magnitude.png"
    )
    pictures = {"magnitude": [magnitude]}
    detect = data["detect"]
    movie = open_movie(Path(detect["movie"]))
    length = detect["model"]["length"]
    meteors = [TriggerEvent(**e) for e in data["events"] if e["truth_kind"] == "meteor"]
    pictures["meteors"] = [
        plot_event(movie, e, length, folder / f"meteor_{e.id:04d}.png") for e in meteors[:PICTURES]
    ]
    scores = np.load(folders["detect"] / "scores.npy", mmap_mode="r")
    exponent, threshold = detect["scores"]["exponent"], detect["threshold"]["score"]
    rejected = []
    candidates = sorted(
        (r for r in movie.events or [] if r.kind in CONFUSERS),
        key=lambda r: -np.nan_to_num(r.peak_pixel_counts),
    )  # the brightest confusers first: the ones a trigger could mistake
    for record in candidates:
        if len(rejected) >= PICTURES:
            continue
        if any(r.kind == record.kind for r in rejected):
            continue  # one of each kind
        f0, f1 = record.start_frame, min(record.end_frame + length, movie.frames)
        if f1 <= f0:
            continue
        best = int(np.max(scores[f0:f1]))
        if best <= threshold:
            rejected.append(record)
            plot_rejected(
                movie,
                record,
                np.ldexp(float(best), exponent),
                np.ldexp(float(threshold), exponent),
                folder / f"rejected_{record.kind}_{record.id}.png",
            )
    pictures["rejected"] = sorted(folder.glob("rejected_*.png"))
    return pictures


def _magnitude_plot(rows: list[dict], methods: list[str], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for method in methods:
        mine = [r for r in rows if r["method"] == method and r["efficiency"] != "nan"]
        ax.plot(
            [r["magnitude"] for r in mine],
            [float(r["efficiency"]) for r in mine],
            "o-",
            label=method,
        )
    ax.set_xlabel("meteor absolute magnitude")
    ax.set_ylabel("fraction of meteors found")
    ax.set_title("a meteor is found when any of its windows passes the 1e-3 threshold", fontsize=9)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8)
    ax.set_ylim(0, 1.05)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _table(headers: list[str], rows: list[list]) -> dict:
    return {"headers": headers, "rows": [[str(c) for c in row] for row in rows]}


def _sections(d: dict, pictures: dict) -> list[dict]:
    ev, fw, cs, res, rtl, det, core = (
        d[k] for k in ("evaluate", "firmware", "cosim", "resources", "rtl", "detect", "core")
    )
    sessions = [k for k in d["auc"][0] if k.startswith("session_")]
    auc_rows = [
        [r["method"], *[f"{float(r[s]):.4f}" for s in sessions], f"{float(r['mean']):.4f}"]
        for r in d["auc"]
    ]
    chain = [
        [
            "brevitas (QAT forward) vs golden",
            sum(r["count"] for r in d["export"]["chain"]),
            sum(r["brevitas_mismatches"] for r in d["export"]["chain"]),
        ],
        [
            "QONNX (execute_onnx) vs golden",
            sum(r["count"] for r in d["export"]["chain"]),
            sum(r["qonnx_mismatches"] for r in d["export"]["chain"]),
        ],
        [
            "hls4ml C simulation vs golden",
            fw["vectors_compared"],
            sum(r["mismatches"] for r in fw["csim_vs_golden"]),
        ],
        [
            "da4ml adder graph vs golden",
            sum(r["count"] for r in rtl["trace_vs_golden"]),
            sum(r["mismatches"] for r in rtl["trace_vs_golden"]),
        ],
        [
            f"RTL in {cs['simulator']['name']} {cs['simulator']['version']} (cocotb) vs golden",
            cs["outputs_compared"],
            cs["mismatches"],
        ],
        [
            f"trigger core in {core['simulator']['name']} (cocotb), streamed frames vs golden "
            "scoring (windows)",
            core["windows_compared"],
            core["mismatches"],
        ],
        [
            "HLS trigger core (g++ C simulation), streamed frames vs golden scoring (windows)",
            core["hls"]["windows_compared"],
            core["hls"]["mismatches"],
        ],
    ]
    loss_rows = [
        [
            r["session"],
            f"{float(r['float_auc']):.4f}",
            f"{float(r['qat_auc']):.4f}",
            f"{float(r['loss']):+.4f}",
        ]
        for r in d["loss"]
    ]
    y, part, use, rt = res["yosys"], res["part"], res["utilization"], res["real_time"]
    th, truth = det["threshold"], det["truth"]
    return [
        {
            "title": "Summary",
            "text": [
                f"Mean ROC AUC over {len(sessions)} held-out sessions: float MLP "
                f"{ev['mean_auc']['float_mlp']:.4f}, QAT MLP {ev['mean_auc']['qat_mlp']:.4f} "
                f"(quantization loss {ev['quantization_loss']['mean']:+.4f}); best baseline "
                f"{ev['best_baseline']['method']} {ev['best_baseline']['mean_auc']:.4f}.",
                f"Bit-exact chain: {sum(r[1] for r in chain):,} comparisons, "
                f"{sum(r[2] for r in chain)} mismatches.",
                f"RTL: {y['luts']:,} LUTs ({use['luts']:.1%} of the {part['name']}), "
                f"{y['dsps']} DSPs, latency {rt['latency_cycles']} clocks, "
                f"{rt['margin']:,.0f}× the D3 real-time need.",
            ],
        },
        {
            "title": "ROC AUC session by session (held out in turn) against the baselines",
            "table": _table(["method", *sessions, "mean"], auc_rows),
            "images": [d["roc"]],
        },
        {
            "title": "Efficiency",
            "text": [
                "Fraction of meteor windows above the threshold of a fixed false-positive "
                "rate per window, and meteors found per magnitude bin."
            ],
            "table": _table(
                ["method", "efficiency @ 1e-3", "efficiency @ 1e-4"],
                [
                    [
                        r["method"],
                        f"{float(r['efficiency@fpr=0.001']):.3f}",
                        f"{float(r['efficiency@fpr=0.0001']):.3f}",
                    ]
                    for r in d["efficiency"]
                ],
            ),
            "images": pictures["magnitude"],
        },
        *_event_section(ev, d["roc"].with_name("event_roc.png")),
        {
            "title": "Quantization accuracy loss (float − QAT ROC AUC)",
            "table": _table(["session", "float AUC", "QAT AUC", "loss"], loss_rows),
            "text": [
                f"On the firmware's windows: float {cs['accuracy']['float_auc']:.4f}, RTL "
                f"{cs['accuracy']['rtl_auc']:.4f} (the C simulation gives the same "
                f"{fw['accuracy']['csim_auc']:.4f})."
            ],
        },
        {
            "title": "The bit-exact chain",
            "text": [
                "Every representation after QAT must give the golden model's integers. "
                "See docs/bit-exact-chain.md for how to read this table."
            ],
            "table": _table(
                ["comparison", "vectors", "mismatches"], [[r[0], f"{r[1]:,}", r[2]] for r in chain]
            ),
        },
        {
            "title": f"Resources on the {part['name']} (Yosys synth_xilinx)",
            "table": _table(RESOURCE_HEADERS, resource_rows(res)),
            "text": [
                _sentence(real_time_sentence(rt)),
                f"Co-simulation: {cs['vectors']:,} vectors in {cs['cycles']:,} clocks, "
                f"{cs['simulation_vectors_per_second']:,.0f} vectors/s simulated.",
            ],
        },
        {
            "title": "The streaming trigger core (uvhunt core) beside the flight L2 trigger",
            "table": _table(
                [
                    "resource",
                    "trigger core (Yosys)",
                    "flight L2 trigger (Vivado HLS)",
                    "unrolled network (Yosys)",
                ],
                [
                    [
                        "LUTs",
                        f"{core['luts']:,}",
                        f"{core['flight_l2']['luts']:,}",
                        f"{y['luts']:,}",
                    ],
                    [
                        "flip-flops",
                        f"{core['flip_flops']:,}",
                        f"{core['flight_l2']['flip_flops']:,}",
                        f"{y['flip_flops']:,}",
                    ],
                    ["DSP48", core["dsps"], core["flight_l2"]["dsps"], y["dsps"]],
                    [
                        "BRAM36",
                        f"{core['bram36']:g} (history {core['bram36_history']:g}, "
                        f"weights {core['bram36_weights']:g})",
                        f"{core['flight_l2']['bram36']:g}",
                        f"{y['brams']}",
                    ],
                    ["LUT levels", core["logic_levels"], "", ""],
                ],
            ),
            "text": [
                f"{core['pixels']:,} pixels per frame, {core['lanes']} multiply-accumulate "
                f"lanes: {core['cycles_per_frame']:,} cycles per D3 frame of the "
                f"{core['cycles_available']:,} available at {core['clock_mhz']:g} MHz "
                f"(real-time margin {core['real_time_margin']:.2f}).",
                f"Co-simulation: {core['windows_compared']:,} windows of streamed frames, "
                f"{core['mismatches']} mismatches with the golden scoring of uvhunt detect.",
                f"The same core as HLS C++ around hls4ml's network (reuse factors "
                f"{'/'.join(map(str, core['hls']['reuse_factors']))}, a pixel every "
                f"{core['hls']['pixel_interval_clocks']:,} clocks, margin "
                f"{core['hls']['real_time_margin']:.2f}): C simulation of "
                f"{core['hls']['windows_compared']:,} windows, {core['hls']['mismatches']} "
                f"mismatches; Vitis synthesis {core['hls']['synthesis']['status']}.",
            ],
        },
        {
            "title": f"Detections in {Path(det['movie']).name} (uvhunt detect)",
            "text": [
                f"{det['frames']:,} frames, {th['windows']:,} windows scored with the golden "
                f"model; threshold logit {th['logit']:.3f} (score > {th['score']}): "
                f"{th.get('source', 'for a fraction of the windows')}; {det['events']} events.",
                ""
                if truth is None
                else f"{truth['meteors_detected']} of {truth['meteors']} simulated meteors "
                f"detected; events by truth kind: {truth['events_by_truth_kind']}. The final "
                "model trained on this session too: see the held-out figures above.",
                ""
                if truth is None or "quality" not in truth
                else f"As a trigger: {quality_sentence(truth['quality'])}.",
                _stack_sentence(det.get("stack")),
            ],
            "images": pictures["meteors"],
        },
        {
            "title": "Rejected confusers",
            "text": [
                "Simulated confusers of the same session whose windows all stayed below "
                "the threshold: the focal surface at their peak and their light curves."
            ],
            "images": pictures["rejected"],
        },
        *_seu_section(core),
        *_sweep_section(d),
    ]


def _stack_sentence(stack: dict | None) -> str:
    """The track stack trigger ORed with the peak gate on the scanned session (``detect
    --stack``), or nothing (a run without it, or without truth)."""
    if not stack or stack["quality"] is None:
        return ""
    met = stack.get("coincidence")
    beside = "" if met is None else f", or {describe(met)}: their coincidence"
    return (
        f"The track stack trigger ORed with the peak gate (hls/stack_trigger.py and the core's "
        f"gate bit), at its stored thresholds (Z > {stack['threshold']} or code > "
        f"{stack['gate_code']}{beside}; set on the training sessions with this one): "
        f"{quality_sentence(stack['quality'])}; {stack['events']} events in "
        "detect/stack_events.csv."
    )


def _seu_section(core: dict) -> list[dict]:
    """The core's single-event-upset campaign, when it ran."""
    seu = core.get("seu")
    if not seu:
        return []
    rows = []
    for level in dict.fromkeys(v["mitigation"] for v in seu.values()):
        found = next(v for v in seu.values() if v["mitigation"] == level)
        for place, c in found["places"].items():
            rows.append(
                [level, place, c["injected"], c["masked"], c["corrected"], c["detected"]]
                + [c["silent"], c["hang"], f"{c['silent_rate']:.1%}"]
            )
    none = seu["none"]
    headers = ["mitigation", "place", "injected", "masked", "corrected", "detected", "silent"]
    return [
        {
            "title": "Single-event upsets in the trigger core (uvhunt core)",
            "table": _table([*headers, "hang", "silent rate"], rows),
            "text": [
                f"One bit flipped per trial in a {none['pixels']}-pixel core of the same model "
                f"(seed {none['seed']}), while a pixel of the first frame with full windows is "
                f"processed; every output of {none['frames']} frames compared with the golden "
                f"scoring. The default mitigation level is {seu['default']['mitigation']}."
            ],
        }
    ]


def _sweep_section(d: dict) -> list[dict]:
    """The design-space sweep's front, when the run has one (``uvhunt run --only sweep``)."""
    sweep = d.get("sweep")
    if sweep is None:
        return []
    column = "unrolled_luts" if sweep["fronts"]["unrolled_luts"] else "da4ml_luts"
    rows = [
        [r["design"], f"{r[column]:,.0f}", f"{r['qat_auc']:.4f}", f"{r['quantization_loss']:+.4f}"]
        for r in sweep["fronts"][column]
    ]
    unit = "Yosys LUTs" if column == "unrolled_luts" else "LUTs (da4ml estimate)"
    refs = "; ".join(
        f"{name}: QAT AUC {r['qat_auc']:.4f}" for name, r in sweep["references"].items()
    )
    return [
        {
            "title": "Design-space sweep: accuracy against LUTs",
            "text": [
                f"{sweep['points']} designs ({sweep['config']['sampler']}, "
                f"{sweep['config']['folds']} leave-k-sessions-out folds), each checked bit for "
                f"bit; the front of the unrolled design below. References: {refs or 'none'}."
            ],
            "table": _table(["design", unit, "QAT AUC", "quantization loss"], rows),
            "images": [d["sweep_plot"]],
        }
    ]


def _event_section(ev: dict, image: Path) -> list[dict]:
    """The evaluation's event level (none for an evaluation made without it)."""
    events = ev.get("event_level")
    if events is None:
        return []
    return [
        {
            "title": "Event level: held-out sessions scanned whole",
            "text": [
                f"Threshold set on each fold's training sessions for at most "
                f"{events['false_events_per_hour_target']:g} false events per hour, applied to "
                "the held-out session; summed over folds (evaluation/report.md has the ROC)."
            ],
            "table": _table(OPERATING_HEADER, operating_rows(events)),
            "images": [image],
        }
    ]


def _markdown(sections: list[dict]) -> str:
    lines = ["# uvhunt run report", ""]
    for s in sections:
        lines += [f"## {s['title']}", ""]
        lines += [t for t in s.get("text", []) if t] + [""]
        if "table" in s:
            t = s["table"]
            lines.append("| " + " | ".join(t["headers"]) + " |")
            lines.append("|" + "---|" * len(t["headers"]))
            lines += ["| " + " | ".join(row) + " |" for row in t["rows"]]
            lines.append("")
        for image in s.get("images", []):
            lines += [f"![{Path(image).stem}]({Path(image).name})", ""]
    return "\n".join(lines)


def _html(sections: list[dict], folder: Path) -> str:
    body = []
    for s in sections:
        body.append(f"<h2>{html.escape(s['title'])}</h2>")
        body += [f"<p>{html.escape(t)}</p>" for t in s.get("text", []) if t]
        if "table" in s:
            t = s["table"]
            head = "".join(f"<th>{html.escape(h)}</th>" for h in t["headers"])
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                for row in t["rows"]
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        for image in s.get("images", []):
            data = base64.b64encode(Path(image).read_bytes()).decode()
            body.append(
                f'<img alt="{html.escape(Path(image).stem)}" src="data:image/png;base64,{data}">'
            )
    style = (
        "body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:1em 0;font-size:13px}"
        "td,th{border:1px solid #bbb;padding:3px 7px;text-align:right}"
        "th{background:#eee}td:first-child{text-align:left}img{max-width:100%;margin:.5em 0}"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>uvhunt run report</title><style>{style}</style></head><body>"
        "<h1>uvhunt run report</h1>" + "\n".join(body) + "</body></html>\n"
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def render(summary: dict) -> str:
    return f"report: {summary['html']} (and {summary['md']})"


STAGE = Stage(
    name="report",
    folder="report",
    help="the run's report (report.md, self-contained report.html)",
    description=__doc__,
    add_options=add_options,
    run=run,
    render=render,
    whole_run=True,
    out_help="report folder (replaced)",
)
