"""FPGA parts uvhunt knows, with their resources (for checks and resource reports)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    name: str
    family: str
    luts: int
    flip_flops: int
    dsps: int
    bram36: int


PARTS = {
    p.name: p
    for p in (
        Part("xc7z030ffg676-2", "zynq-7000 (the Mini-EUSO board)", 78_600, 157_200, 400, 265),
        Part("xc7z020clg400-1", "zynq-7000", 53_200, 106_400, 220, 140),
        Part("xc7z045ffg900-2", "zynq-7000", 218_600, 437_200, 900, 545),
        Part("xcku040-ffva1156-2-e", "kintex ultrascale", 242_400, 484_800, 1_920, 600),
        Part("xczu9eg-ffvb1156-2-e", "zynq ultrascale+", 274_080, 548_160, 2_520, 912),
    )
}
DEFAULT_PART = "xc7z030ffg676-2"
