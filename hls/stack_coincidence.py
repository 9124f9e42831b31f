"""The stack–gate coincidence in a streaming core, in Amaranth 0.5: the third term of the flight
trigger beside the track stack's Z and the peak gate's bit (``detection.stack_coincidence``,
whose ``coincident`` this core equals exactly).

One beat a pixel, ``side`` × ``side`` pixels a frame, in pixel order: at the beat of pixel p in
input frame f it takes the gate's bit of (p, f) (the peak gate's code above the coincidence's
lower code) and the stack's Z of (p, f − ``lag``), as the track stack trigger hands them out.
Its beat out carries that Z on, and m_coinc: Z valid and above ``threshold``, and a gate bit at
some pixel within ``reach`` rows and columns of p (inside the focal surface) in some frame
within ``frames`` of f − lag.

Memory: per pixel a word of the gate's last lag + frames + 1 bits (bit i: frame f − i once the
pixel's beat of frame f is in), shifted at the pixel's beat: 83 bits × 2,304 pixels at the
defaults (lag 66, frames 16): 191 kbit, which Yosys maps to 6.5 RAMB36 (83 bits wide). At pixel
p's beat, pixels before p hold frame f as bit 0 and pixels after it frame f − 1, so a
neighbour's window is one of two fixed masks; every bit of it is already in as long as lag >
frames. The words are cleared after reset (one a clock, s_tready low meanwhile), so no frame
before the reset counts, as in ``coincident``, whose movie starts there.

Clocks a pixel: the beat in, its own word read, one neighbour read a clock ((2·reach + 1)²,
pipelined, and one more for the last word), the beat out: (2·reach + 1)² + 5 = 14 at reach 1,
against the track stack's 1,100. ``s_tuser`` = 1 forces pixel 0.
"""

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out


class StackCoincidence(wiring.Component):
    """The gate's bit (``s_gate``) and the stack's Z (``s_z``, ``s_z_valid``; ``z_bits``
    signed, steps of 2^−F σ) of each pixel in; Z carried on and ``m_coinc`` out."""

    def __init__(self, side: int, lag: int, z_bits: int, frames: int = 16, reach: int = 1):
        if not 1 <= side <= 48 or z_bits < 2 or frames < 0 or reach < 0:
            raise ValueError(
                f"side 1…48, z_bits ≥ 2, frames ≥ 0 and reach ≥ 0 "
                f"(got {side}, {z_bits}, {frames}, {reach})"
            )
        if lag <= frames:
            raise ValueError(
                f"the stack's Z must come more than {frames} frames after its frame for the "
                f"gate's bits {frames} frames after it to be in (lag {lag})"
            )
        self.side, self.pixels, self.lag = side, side * side, lag
        self.frames, self.reach, self.z_bits = frames, reach, z_bits
        self.width = lag + frames + 1
        """Bits kept a pixel: frames f − lag − frames … f."""
        span = (1 << (2 * frames + 1)) - 1
        self.mask_before = span << (lag - frames)
        """The window's bits in a word whose bit 0 is frame f (pixels up to p)."""
        self.mask_after = span << (lag - frames - 1)
        """The window's bits in a word whose bit 0 is frame f − 1 (pixels after p)."""
        self.neighbours = [
            (rows, cols) for rows in range(-reach, reach + 1) for cols in range(-reach, reach + 1)
        ]
        self.clocks_per_pixel = len(self.neighbours) + 5
        """Clocks from one beat in to the next when nothing stalls."""
        super().__init__(
            {
                "s_tvalid": In(1),
                "s_tready": Out(1),
                "s_tuser": In(1),
                "s_gate": In(1),
                "s_z": In(signed(z_bits)),
                "s_z_valid": In(1),
                "threshold": In(signed(z_bits)),
                "m_tvalid": Out(1),
                "m_tready": In(1),
                "m_tuser": Out(1),
                "m_z": Out(signed(z_bits)),
                "m_z_valid": Out(1),
                "m_coinc": Out(1),
            }
        )

    def elaborate(self, platform):
        m = Module()
        side, pixels, width, count = self.side, self.pixels, self.width, len(self.neighbours)
        words = Memory(shape=width, depth=pixels, init=[])
        m.submodules.words = words
        write, read = words.write_port(), words.read_port(transparent_for=())
        pixel = Signal(range(pixels))  # the beat's
        row, col = Signal(range(side)), Signal(range(side))
        coming = Signal(range(pixels))  # the next beat's, unless s_tuser
        coming_row, coming_col = Signal(range(side)), Signal(range(side))
        gate, z, z_valid, first = Signal(), Signal(signed(self.z_bits)), Signal(), Signal()
        step = Signal(range(count + 1))  # the neighbour whose word is addressed
        found = Signal()
        inside, before = Signal(), Signal()  # of the word addressed last clock
        clear = Signal(range(pixels))
        m.d.comb += [
            self.m_tuser.eq(first),
            self.m_z.eq(z),
            self.m_z_valid.eq(z_valid),
            self.m_coinc.eq(z_valid & (z > self.threshold) & found),
        ]
        with m.FSM(init="CLEAR"):
            with m.State("CLEAR"):  # after reset: no frame before it counts
                m.d.comb += [write.en.eq(1), write.addr.eq(clear), write.data.eq(0)]
                m.d.sync += clear.eq(clear + 1)
                with m.If(clear == pixels - 1):
                    m.next = "IDLE"
            with m.State("IDLE"):
                m.d.comb += self.s_tready.eq(1)
                with m.If(self.s_tvalid):
                    here = Signal.like(pixel)
                    here_row, here_col = Signal.like(row), Signal.like(col)
                    user = self.s_tuser
                    m.d.comb += [
                        here.eq(Mux(user, 0, coming)),
                        here_row.eq(Mux(user, 0, coming_row)),
                        here_col.eq(Mux(user, 0, coming_col)),
                    ]
                    last_col = here_col == side - 1
                    m.d.sync += [
                        pixel.eq(here),
                        row.eq(here_row),
                        col.eq(here_col),
                        coming.eq(Mux(here == pixels - 1, 0, here + 1)),
                        coming_col.eq(Mux(last_col, 0, here_col + 1)),
                        coming_row.eq(
                            Mux(last_col, Mux(here_row == side - 1, 0, here_row + 1), here_row)
                        ),
                        gate.eq(self.s_gate),
                        z.eq(self.s_z),
                        z_valid.eq(self.s_z_valid),
                        first.eq(user),
                        found.eq(0),
                        step.eq(0),
                    ]
                    m.next = "OWN"
            with m.State("OWN"):  # the pixel's own word: read now, shifted next clock
                m.d.comb += read.addr.eq(pixel)
                m.next = "SHIFT"
            with m.State("SHIFT"):  # (the word read back below, as a neighbour, is this one)
                m.d.comb += [
                    write.en.eq(1),
                    write.addr.eq(pixel),
                    write.data.eq(Cat(gate, read.data)[:width]),
                ]
                m.d.sync += inside.eq(0)
                m.next = "NEAR"
            with m.State("NEAR"):  # neighbour ``step`` addressed; the word of ``step`` − 1 in
                mask = Mux(before, self.mask_before, self.mask_after)
                with m.If(inside & (read.data & mask).any()):
                    m.d.sync += found.eq(1)
                m.d.sync += [inside.eq(0), step.eq(step + 1)]
                for index, (rows, cols) in enumerate(self.neighbours):
                    with m.If(step == index):
                        there = Signal(name=f"inside_{index}")
                        m.d.comb += there.eq(
                            (row + rows >= 0)
                            & (row + rows < side)
                            & (col + cols >= 0)
                            & (col + cols < side)
                        )
                        m.d.comb += read.addr.eq(Mux(there, pixel + rows * side + cols, 0))
                        # up to p itself (its word shifted above) bit 0 is frame f
                        m.d.sync += [inside.eq(there), before.eq(int((rows, cols) <= (0, 0)))]
                with m.If(step == count):
                    m.next = "OUT"
            with m.State("OUT"):
                m.d.comb += self.m_tvalid.eq(1)
                with m.If(self.m_tready):
                    m.next = "IDLE"
        return m
