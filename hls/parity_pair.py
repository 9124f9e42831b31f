"""Read-only memories stored twice, each word with a parity bit: the trigger core's weight and
bias ROMs under ECC.

A ROM of ``n`` words of ``k`` bits becomes one memory of ``2n`` words of ``k + 1`` bits: word
``a`` at address ``a`` and its copy at ``a + n``, each with the parity of its data as bit
``k``. Both are read at once, through the block RAM's two ports. The data is the first
word's, unless its parity fails; then the copy's (``corrected``); if both fail, ``detected``.
One flipped bit anywhere is thus corrected (in the first word) or never used (in the copy).

Against a SECDED decoder on a ROM read every clock, this costs two parity trees and one
multiplexer per data bit instead of a syndrome and a comparison per data bit (about 2 LUTs
per bit), and a second block RAM port, free in a ROM; the block RAM holds twice the words.
Two flips in one word pass unseen when they are both in the first word (SECDED would flag
them): the ROM must then have taken two upsets in one word between reconfigurations.
"""

from amaranth.hdl import Module, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from uvhunt.hls.secded import parity


def pair_image(words: list[int], k: int) -> list[int]:
    """The stored image of ``k``-bit ``words``: the words, then their copies, each with its
    parity bit (``k + 1`` bits, ``2 * len(words)`` words)."""
    for w in words:
        if not 0 <= w < 1 << k:
            raise ValueError(f"word {w} does not fit {k} bits")
    stored = [w | parity(w) << k for w in words]
    return stored + stored


class PairReader(wiring.Component):
    """Combinational: the two stored words read (``first``, ``copy``: ``k + 1`` bits each) in;
    ``data`` (``k`` bits), ``corrected`` (the first failed its parity, the copy served) and
    ``detected`` (both failed) out."""

    def __init__(self, k: int):
        self.k = k
        super().__init__(
            {
                "first": In(k + 1),
                "copy": In(k + 1),
                "data": Out(k),
                "corrected": Out(1),
                "detected": Out(1),
            }
        )

    def elaborate(self, platform):
        m = Module()
        k = self.k
        first_bad, copy_bad = self.first.xor(), self.copy.xor()  # 1: an odd number flipped
        m.d.comb += [
            self.data.eq(Mux(first_bad, self.copy[:k], self.first[:k])),
            self.corrected.eq(first_bad & ~copy_bad),
            self.detected.eq(first_bad & copy_bad),
        ]
        return m
