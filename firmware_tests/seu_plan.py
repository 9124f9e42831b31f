"""Single-event upsets in the trigger core, planned and tallied in pure Python (no cocotb
import): where the core keeps state (found in its generated Verilog), a seeded plan of bit
flips over those places, and the count of each fault's outcome.

A place is a kind of storage a trigger engineer protects differently:

- ``weight_rom``: the ROMs (block RAM; never written by the core): weights, biases and, under
  ECC, the history's correction table;
- ``history``: the pixel history (block RAM; one sample per pixel and frame);
- ``datapath``: accumulators, pipeline and arithmetic registers (with the valid bits and tags
  that travel beside the values), the working buffers (the differences of one pixel, the
  activations of one layer) and the block-RAM read latches;
- ``control``: the state machine, counters and addresses that sequence it;
- ``mask``: the pixel mask (a RAM the host writes).

Every flip-flop of the Verilog (the left side of a non-blocking assignment, after Yosys has
merged equal registers: one physical register, as the FPGA has it) and every memory array is
in exactly one place; a memory this module does not know is an error, so a new one in the
core must be placed here before a campaign runs.
"""

import re
from dataclasses import asdict, dataclass

import numpy as np

PLACES = ("weight_rom", "history", "datapath", "control", "mask")
OUTCOMES = ("masked", "corrected", "detected", "silent", "hang")
"""masked: no output changed; corrected: the core said it corrected the fault and every
output is exact; detected: the core flagged it, on every wrong beat or before it in its
frame; silent: an output wrong and not flagged so; hang: the stream stopped (no output for
longer than a frame takes, twice over)."""

MEMORY_PLACES = {
    "wrom": "weight_rom",
    "brom": "weight_rom",
    "hist": "history",
    "hist_fix": "weight_rom",
    "dbuf": "datapath",
    "act0": "datapath",
    "act1": "datapath",
    "pixel_mask": "mask",
}
READ_ONLY = ("wrom", "brom", "hist_fix", "pixel_mask")
"""Memories the core never writes (the host writes the mask): a campaign restores their
flipped word after each trial, as reconfiguration would."""
CONTROL = re.compile(
    r"^(ctrl_state|p_cnt|base_cnt|t_slot|t_word|t_fld|nfr|cur_p|cur_base|m_tuser|m_tlast|"
    r"m_window_valid|rd_slot|rcnt|dcnt|layer|i_cnt|g_cnt|(r|b|d|rc|bc)_rp__addr|dw0?|df0?|pp_j|"
    r"pp_active|pp_lay|pp_nbase|g_step|g_load|g_end|g_i|mul_run|busy|cnt|pk_ok)$"
)
"""The registers that sequence the core from clock to clock (names from
``hls/trigger_core.py``): the state machine, the frame, pixel, history-slot, layer, input
and group counters, the ROM and buffer addresses, the post-processor's and the peak gate's
sequencers, the trigger count, the peak input's ready flag; the history write port's
address and enable (Yosys names them after the port: ``_port_place``). The flags and tags
that travel down the pipeline beside the values (valid bits, first/last, layer and group
tags, a buffer's write index) are pipeline registers: ``datapath``."""

_MEMORY = re.compile(r"^\s*reg (?:signed )?\[(\d+):0\] (\S+) \[(\d+):0\];", re.M)
_FLIP_FLOP = re.compile(r"^\s*(\\\S+ |[A-Za-z_][\w$]*)\s*<=", re.M)
_WIDTH = r"^\s*(?:output )?reg (?:signed )?(?:\[(\d+):0\] )?{name}(?: =|;| \[)"


_PORT_REGISTER = re.compile(r"^\\\$signature__(addr|en)\$\d+$")
"""A register Yosys named after the memory write port it drives (its own name merged away)."""


def _port_place(name: str, verilog: str) -> str:
    """``control`` for the history write port's address or enable (they sequence the
    history), ``datapath`` for a working buffer's (the index that travels with the value)."""
    reg = re.escape(name) + r"\s*"
    found = re.search(rf"(\w+)\[{reg}\]\s*<=", verilog) or re.search(
        rf"if \({reg}\)\s*(\w+)\[", verilog
    )
    if found is None:
        raise ValueError(f"register {name!r} drives no memory write port")
    return "control" if found.group(1) == "hist" else "datapath"


@dataclass(frozen=True)
class Target:
    """One register or memory of the core's Verilog."""

    name: str
    """As cocotb finds it on the top level (``dut.<name>``)."""
    place: str
    width: int
    """Bits per word."""
    depth: int
    """Words (1 for a register)."""

    @property
    def bits(self) -> int:
        return self.width * self.depth


def find_targets(verilog: str) -> list[Target]:
    """Every flip-flop and memory of the core's (flattened) Verilog, each in its place."""
    targets = []
    for width, name, top in _MEMORY.findall(verilog):
        if name not in MEMORY_PLACES:
            raise ValueError(f"memory {name!r} of the core has no fault place in seu_plan.py")
        targets.append(Target(name, MEMORY_PLACES[name], int(width) + 1, int(top) + 1))
    for raw in sorted(set(_FLIP_FLOP.findall(verilog))):
        name = raw.strip()
        found = re.search(_WIDTH.format(name=re.escape(raw.rstrip()) + r"\s?"), verilog, re.M)
        if found is None:
            raise ValueError(f"register {name!r} of the core has no declaration")
        width = int(found.group(1) or 0) + 1
        place = "control" if CONTROL.match(re.sub(r"_tmr[0-2]$", "", name)) else "datapath"
        if _PORT_REGISTER.match(name):
            place = _port_place(name, verilog)
        targets.append(Target(name.lstrip("\\"), place, width, 1))
    return targets


@dataclass(frozen=True)
class Fault:
    """One bit flip, injected ``offset`` clocks after the core presented the output before
    pixel ``pixel`` of the injection frame (so while it works on that pixel)."""

    place: str
    target: str
    index: int | None
    """The memory word (None: a register)."""
    bit: int
    pixel: int
    offset: int

    def to_dict(self) -> dict:
        return asdict(self)


def plan_faults(
    targets: list[Target],
    per_place: int,
    pixels: int,
    cycles_per_pixel: int,
    seed: int,
    places: tuple[str, ...] = PLACES,
) -> list[Fault]:
    """``per_place`` faults in each of ``places``: a bit drawn uniformly over the place's
    bits (a register or word weighs by its bits), a pixel and a clock of its processing drawn
    uniformly. Same seed, same faults."""
    rng = np.random.default_rng(seed)
    faults = []
    for place in places:
        here = [t for t in targets if t.place == place]
        if not here:
            raise ValueError(f"the core has no storage in the place {place!r}")
        weights = np.array([t.bits for t in here], float)
        for _ in range(per_place):
            target = here[int(rng.choice(len(here), p=weights / weights.sum()))]
            flat = int(rng.integers(target.bits))
            index, bit = divmod(flat, target.width)
            faults.append(
                Fault(
                    place,
                    target.name,
                    None if target.depth == 1 else index,
                    bit,
                    int(rng.integers(pixels)),
                    int(rng.integers(cycles_per_pixel)),
                )
            )
    return faults


def tally(outcomes: list[dict]) -> dict:
    """Per place: ``injected`` and the count of each outcome, and the silent-corruption rate;
    ``trigger_changed``: faults that changed at least one trigger bit (network or gate)."""
    out = {}
    for place in dict.fromkeys(o["place"] for o in outcomes):
        here = [o for o in outcomes if o["place"] == place]
        counts = {k: sum(o["outcome"] == k for o in here) for k in OUTCOMES}
        out[place] = {
            "injected": len(here),
            **counts,
            "silent_rate": counts["silent"] / len(here),
            "trigger_changed": sum(bool(o.get("trigger_changed")) for o in here),
        }
    return out
