"""Write a run folder's report: report.md and a self-contained report.html (pictures inlined)
with the session-by-session AUC table, ROC curves, efficiency versus magnitude, the bit-exact
chain, the quantization loss, resources, latency, throughput and real-time margin, and
pictures of detected meteors and rejected confusers."""

from pathlib import Path

from uvhunt.console import emit
from uvhunt.report_stage import report_stage
from uvhunt.run_layout import DEFAULT_RUN

NAME = "report"
HELP = "the run's report (report.md, self-contained report.html)"


def add_arguments(p) -> None:
    p.add_argument("--run", type=Path, default=DEFAULT_RUN, help="run folder")
    p.add_argument("--out", type=Path, default=None, help="report folder (default: RUN/report)")


def main(args) -> int:
    summary = report_stage(args.run, args.out or args.run / "report")
    emit(summary, render(summary), args.json)
    return 0


def render(summary: dict) -> str:
    return f"report: {summary['html']} (and {summary['md']})"
