"""Triple modular redundancy of registers: a tripled counter keeps counting when one copy is
upset (outvoted, then rewritten at the next edge), and Yosys keeps the three copies apart
(three times the flip-flops), as the price of the core's ``ecc_tmr`` level assumes."""

from amaranth.back import rtlil
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import Out
from amaranth.sim import Simulator

from uvhunt.hls.resources import run_synthesis
from uvhunt.hls.tmr import KEEP_COPIES, Tripler


class Counter(wiring.Component):
    count: Out(8)

    def __init__(self, tripled: bool):
        self.tripled = tripled
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        value = Signal(8, name="value")
        if self.tripled:
            self.copies = Tripler(m)
            self.copies.triple(value)
        m.d.sync += value.eq(value + 1)
        m.d.comb += self.count.eq(value)
        return m


def test_one_upset_copy_is_outvoted_and_rewritten():
    counter = Counter(tripled=True)
    sim = Simulator(counter)
    sim.add_clock(1e-8)
    seen = []

    async def bench(ctx):
        for _ in range(5):
            await ctx.tick()
        copy = next(s for s in counter.copies._copies.values())[1]  # value_tmr1
        ctx.set(copy, ctx.get(copy) ^ 0x40)  # an upset
        seen.append(ctx.get(counter.count))
        await ctx.tick()
        seen.append((ctx.get(counter.count), ctx.get(copy)))

    sim.add_testbench(bench)
    sim.run()
    assert seen == [5, (6, 6)]


def test_yosys_keeps_the_three_copies(tmp_path):
    for tripled, flip_flops in ((False, 8), (True, 24)):
        work = tmp_path / str(tripled)
        work.mkdir()
        (work / "counter.il").write_text(rtlil.convert(Counter(tripled), name="counter"))
        counts = run_synthesis(f"read_rtlil counter.il\n{KEEP_COPIES}", "counter", work)
        assert counts["flip_flops"] == flip_flops, tripled
