"""What a mapped netlist holds beyond cell counts: its logic depth, the most LUTs on any path
between registers (the timing proxy uvhunt uses, since no 7-series place-and-route is
installable here), and the block RAM each memory took.

Reads the JSON netlist Yosys writes after ``synth_xilinx`` (``write_json``). A path starts
and ends at a flip-flop, block RAM, DSP48 or a port; each LUT (LUT1…LUT6, INV) and each
distributed-RAM read counts one level; CARRY4 and MUXF7/MUXF8 count none (they are the fast
dedicated paths of a slice).
"""

import json
from pathlib import Path

LUT_LEVEL = {"LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6", "INV"}
LUTRAM_READ = {"RAM32M", "RAM64M", "RAM32X1D", "RAM64X1D", "RAM128X1D", "RAM32X1S", "RAM64X1S"}
NO_LEVEL = {"CARRY4", "MUXF7", "MUXF8"}


def logic_levels(netlist: Path, top: str) -> int:
    """LUT levels of the longest register-to-register path of ``top`` in ``netlist``."""
    module = json.loads(Path(netlist).read_text())["modules"][top]
    cells = module["cells"]
    driver = {}
    for name, cell in cells.items():
        for port, bits in cell["connections"].items():
            if cell["port_directions"].get(port) == "output":
                for bit in bits:
                    driver[bit] = name

    def inputs(cell) -> list:
        found = []
        for port, bits in cell["connections"].items():
            if cell["port_directions"].get(port) != "input":
                continue
            if cell["type"] in LUTRAM_READ and not port.startswith(("ADDR", "DPRA", "A")):
                continue  # data and write ports of a distributed RAM end at its storage
            found += [b for b in bits if not isinstance(b, str)]
        return found

    depth: dict[str, int] = {}
    for start in cells:
        if start in depth:
            continue
        stack = [(start, False)]
        while stack:  # iterative post-order: no recursion limit on deep carry chains
            name, expanded = stack.pop()
            cell = cells[name]
            kind = cell["type"]
            if kind not in LUT_LEVEL | LUTRAM_READ | NO_LEVEL:
                depth[name] = 0
                continue
            sources = [driver[b] for b in inputs(cell) if b in driver]
            if not expanded:
                depth.setdefault(name, 0)  # guards against combinational loops
                stack.append((name, True))
                stack += [(s, False) for s in sources if s not in depth]
                continue
            own = 0 if kind in NO_LEVEL else 1
            depth[name] = own + max((depth.get(s, 0) for s in sources), default=0)
    return max(depth.values(), default=0)


def bram_by_memory(netlist: Path, top: str) -> dict[str, float]:
    """BRAM36 (a RAMB18 counts half) of the trigger core's history (cells named ``hist``),
    weights and biases (``wrom``, ``brom``) and anything else."""
    cells = json.loads(Path(netlist).read_text())["modules"][top]["cells"]
    found = {"history": 0.0, "weights": 0.0, "other": 0.0}
    for name, cell in cells.items():
        size = {"RAMB36E1": 1.0, "RAMB18E1": 0.5}.get(cell["type"])
        if size is None:
            continue
        key = (
            "history"
            if "hist" in name
            else "weights"
            if "wrom" in name or "brom" in name
            else "other"
        )
        found[key] += size
    return found
