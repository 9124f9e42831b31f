"""The track stack's bumps in a streaming core, in Amaranth 0.5: raw D3 counts in, one pixel a
beat, and each pixel's bump x out, the exact integers of the integer twin
(``detection.track_stack_integer``, ``IntegerTrackStack.bumps``). The first half of the track
stack in hardware; the tracks core (``hls/stack_tracks.py``) takes its x.

With m = G + W, the core keeps for each pixel, at input frame t (counted from reset):
  samples  s = min(raw >> P, 2^M − 1) of frames t − 2m … t       (2m + 1 slots of M bits);
  bumps    b of frames t − m − 2H … t − m, as mini-floats         (2H + 1 slots of 8 bits);
  Σ b² over those bumps                                           (one word).
One pixel at a time (at most ``worst_clocks_per_pixel``, 132 at the defaults: 304 k clocks a
frame of 2,304 pixels, of 4.1 M at 100 MHz):
  READ   the 2m + 1 samples, newest first: c = t − m, B = 2W·s(c) − the 2W baseline samples;
  BUMP   b(c) = clip(B >> R, N bits), |b| rounded to Q significant bits (halves up), coded
         as sign, exponent E and the mantissa's Q − 1 low bits (E = 0: |b| = mantissa < 2^(Q−1);
         E ≥ 1: |b| = (2^(Q−1) + mantissa) << (E − 1));
  SUM    Σ b² += b(c)² − b(c − 2H − 1)², each square a table of the mantissa shifted by 2(E − 1);
  MEAN   ⌊Σ b² / n⌋ (n: the window's frames that have a bump, 2H + 1 once full), restoring
         division, one bit a clock;
  SQRT   σ = max(isqrt(mean), 1), digit by digit (two bits of the mean a clock);
  QUOT   x(f) for f = c − H: q = ⌊|b(f)| · 2^(F+1) / σ⌋, x = min((q + 1) >> 1, limit) with
         b(f)'s sign (round(b · 2^F / σ), halves away from zero).
A pixel's output beat carries x(f) and m_x_valid once f ≥ m, the twin's first frame with a
bump; earlier beats have m_x_valid 0 and x 0. Frame position comes from a pixel counter
(``pixels`` per frame); s_tuser = 1 forces pixel 0. Memories are not cleared at reset: a
pixel's first bump restarts its sum, and bumps older than the window are never read. Frames
are meant whole: a pixel skipped (an early s_tuser) keeps stale slots, so its x are wrong
until its windows refill, and a slot skipped in the first 2H + 1 frames after a reset leaves
an offset in that pixel's sum of squares until the next reset.
"""

from amaranth.hdl import Array, C, Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from uvhunt.hls.trigger_core import BLOCK_RAM, RAW_BITS

EXPONENT_BITS = 4
"""Bits of a stored bump's exponent E."""


class StackBumps(wiring.Component):
    """Raw D3 counts (``s_tdata``, one pixel a beat) in; x per pixel per frame (``m_x``, steps
    of 2^−F σ) out, H + G + W frames late. Settings as ``IntegerTrackStack``'s; ``limit`` is
    the largest |x| (cap · 2^F)."""

    def __init__(
        self,
        pixels: int = 2304,
        *,
        history_shift: int = 5,
        history_bits: int = 16,
        gap: int = 4,
        width: int = 12,
        spread: int = 40,
        bump_shift: int = 2,
        bump_bits: int = 16,
        bump_significant_bits: int = 4,
        fraction_bits: int = 2,
        limit: int = 32,
    ):
        if not 1 <= pixels <= 2304:
            raise ValueError(f"pixels must be 1…2,304 (got {pixels})")
        if not 1 <= bump_significant_bits <= bump_bits:
            raise ValueError(
                f"the core stores bumps as mini-floats of 1…{bump_bits} significant bits "
                f"(got bump_significant_bits {bump_significant_bits})"
            )
        if min(gap, history_shift, bump_shift, fraction_bits) < 0 or min(width, spread) < 1:
            raise ValueError("gap and the shifts must be ≥ 0, width and spread ≥ 1 frame")
        if not 1 <= history_bits <= 24 or not 4 <= bump_bits <= 24 or limit < 1:
            raise ValueError(
                f"history_bits 1…24, bump_bits 4…24 and limit ≥ 1 (got {history_bits}, "
                f"{bump_bits}, {limit})"
            )
        self.pixels, self.shift, self.M = pixels, history_shift, history_bits
        self.G, self.W, self.H = gap, width, spread
        self.R, self.N, self.Q = bump_shift, bump_bits, bump_significant_bits
        self.F, self.limit = fraction_bits, limit
        self.samples_kept = 2 * (gap + width) + 1
        self.bumps_kept = 2 * spread + 1
        top_exponent = bump_bits - bump_significant_bits + 1  # |b| ≤ 2^(N−1) rounds to it
        if top_exponent >= 2**EXPONENT_BITS:
            raise ValueError(f"a bump's exponent ({top_exponent}) needs over {EXPONENT_BITS} bits")
        self.code_bits = 1 + EXPONENT_BITS + bump_significant_bits - 1
        """Bits of a stored bump: sign, exponent, mantissa without its leading one."""
        self.sum_bits = 2 * bump_bits + self.bumps_kept.bit_length()
        self.x_bits = limit.bit_length() + 1
        super().__init__(
            {
                "s_tdata": In(RAW_BITS),
                "s_tvalid": In(1),
                "s_tready": Out(1),
                "s_tuser": In(1),
                "m_tvalid": Out(1),
                "m_tready": In(1),
                "m_tuser": Out(1),
                "m_x": Out(signed(self.x_bits)),
                "m_x_valid": Out(1),
            }
        )

    SETTINGS = ("history_shift", "history_bits", "gap", "width", "spread", "bump_shift")
    SETTINGS += ("bump_bits", "bump_significant_bits", "fraction_bits", "limit")
    """The settings the core shares with the integer twin, by the twin's names."""

    @classmethod
    def for_stack(cls, stack, pixels: int = 2304) -> "StackBumps":
        """The core computing the x of ``stack`` (an ``IntegerTrackStack``, or anything with
        its ``SETTINGS``) for ``pixels`` pixels a frame."""
        return cls(pixels, **{name: getattr(stack, name) for name in cls.SETTINGS})

    @property
    def worst_clocks_per_pixel(self) -> int:
        """Clocks from one accepted beat to the next when nothing stalls, at most: b(c) of the
        most bits (N − Q − 1 shifts to normalize) and b(f) of the largest exponent (N + F + 1
        quotient bits)."""
        return self.samples_kept + self.sum_bits + 3 * self.N - self.Q + self.F + 14

    @property
    def lag(self) -> int:
        """Frames between a sample coming in and its frame's x going out: H + G + W."""
        return self.H + self.G + self.W

    def elaborate(self, platform):
        m = Module()
        P, S, B = self.pixels, self.samples_kept, self.bumps_kept
        G, W, H, N, Q, F = self.G, self.W, self.H, self.N, self.Q, self.F
        margin = G + W
        first_bump = 2 * margin  # input frame of a pixel's first bump
        first_x = first_bump + H  # … of its first x
        first_leaving = first_bump + B  # … where a bump leaves the spread's window
        frame_top = first_leaving  # the frame count saturates here

        samples = Memory(shape=unsigned(self.M), depth=P * S, init=[], attrs=BLOCK_RAM)
        bumps = Memory(shape=unsigned(self.code_bits), depth=P * B, init=[], attrs=BLOCK_RAM)
        sums = Memory(shape=unsigned(self.sum_bits), depth=P, init=[], attrs=BLOCK_RAM)
        m.submodules.samples, m.submodules.bumps, m.submodules.sums = samples, bumps, sums
        s_write, s_read = samples.write_port(), samples.read_port()
        b_write, b_read = bumps.write_port(), bumps.read_port()
        q_write, q_read = sums.write_port(), sums.read_port()

        # ---- frame position: the pixel index, the frame count and the two rings' slots
        next_pixel, pixel = Signal(range(P)), Signal(range(P))
        started = Signal()
        frame = Signal(range(frame_top + 1))
        s_slot, b_slot = Signal(range(S)), Signal(range(B))
        s_base, b_base = Signal(range(P * S)), Signal(range(P * B))
        b_address, f_address = Signal(range(P * B)), Signal(range(P * B))  # of b(c), b(f)

        # ---- one pixel's work
        sample = Signal(self.M)
        ptr = Signal(range(S))  # the sample slot being read
        age = Signal(range(S + 1))  # frames before t of the sample read last clock
        baseline = Signal(range(2 * W * (2**self.M - 1) + 1))
        centre = Signal(self.M)
        bump = Signal(signed(N))  # b, saturated, before rounding
        value = Signal(N + 1)  # |b|, shifted right until below 2^(Q+1)
        shifts = Signal(range(N))
        new_code, old_code, f_code = (Signal(self.code_bits, name=n) for n in ("new", "old", "f"))
        total = Signal(self.sum_bits)  # Σ b² as read
        square_code = Signal(self.code_bits)
        new_square, old_square = Signal(2 * N), Signal(2 * N)
        count = Signal(range(B + 1))  # n
        divide = Signal(self.sum_bits)  # dividend, then quotient
        remainder = Signal(range(2 * B + 1))
        step = Signal(range(max(self.sum_bits, N + F + 1) + 1))
        root_op, root, root_bit = Signal(2 * N), Signal(2 * N), Signal(2 * N)
        sigma = Signal(N)
        feed = Signal(Q)  # b(f)'s mantissa, fed into the quotient a bit a clock
        steps = Signal(range(N + F + 2))  # the quotient's bits: Q + shift + F + 1
        quotient = Signal(N + F + 1)
        rest = Signal(N + 1)
        x = Signal(signed(self.x_bits))
        x_valid = Signal()

        def decode(code):
            """(mantissa with its leading one, shift, sign) of a stored bump."""
            exponent = code[Q - 1 : Q - 1 + EXPONENT_BITS]
            low = code[: Q - 1]
            mantissa = Mux(exponent == 0, low, Cat(low, C(1, 1)))
            return mantissa, Mux(exponent == 0, 0, (exponent - 1)[:EXPONENT_BITS]), code[-1]

        squares = Array(C(k * k, 2 * Q) for k in range(2**Q))
        square_mantissa, square_shift, _ = decode(square_code)
        square = (squares[square_mantissa] << (square_shift << 1))[: 2 * N]

        m.d.comb += [
            s_read.addr.eq(s_base + ptr),
            q_read.addr.eq(pixel),
            q_write.addr.eq(pixel),
            self.m_x.eq(x),
            self.m_x_valid.eq(x_valid),
            self.m_tuser.eq(pixel == 0),
        ]

        with m.FSM(name="state"):
            with m.State("IDLE"):
                m.d.comb += self.s_tready.eq(1)
                index = Mux(self.s_tuser, 0, next_pixel)
                new_frame = (index == 0) & started
                with m.If(self.s_tvalid):
                    m.d.sync += [
                        pixel.eq(index),
                        next_pixel.eq(Mux(index == P - 1, 0, index + 1)),
                        started.eq(1),
                        s_base.eq(Mux(index == 0, 0, s_base + S)),
                        b_base.eq(Mux(index == 0, 0, b_base + B)),
                        sample.eq(
                            Mux(
                                self.s_tdata[self.shift + self.M :].any(),
                                2**self.M - 1,
                                self.s_tdata[self.shift : self.shift + self.M],
                            )
                            if self.shift + self.M < RAW_BITS
                            else self.s_tdata[self.shift :]
                        ),
                        age.eq(0),
                        baseline.eq(0),
                        x.eq(0),
                        x_valid.eq(0),
                    ]
                    with m.If(new_frame):
                        m.d.sync += [
                            s_slot.eq(Mux(s_slot == S - 1, 0, s_slot + 1)),
                            b_slot.eq(Mux(b_slot == B - 1, 0, b_slot + 1)),
                        ]
                        with m.If(frame != frame_top):
                            m.d.sync += frame.eq(frame + 1)
                    m.next = "WRITE"

            with m.State("WRITE"):  # the sample, at slot t mod S
                m.d.comb += [
                    s_write.addr.eq(s_base + s_slot),
                    s_write.data.eq(sample),
                    s_write.en.eq(1),
                ]
                f_slot = Mux(b_slot >= H, b_slot - H, b_slot + (B - H))
                m.d.sync += [
                    ptr.eq(s_slot),
                    b_address.eq(b_base + b_slot),
                    f_address.eq(b_base + f_slot),
                ]
                m.next = "READ"

            with m.State("READ"):  # issue the read of age `age`, take that of age − 1
                m.d.sync += [ptr.eq(Mux(ptr == 0, S - 1, ptr - 1)), age.eq(age + 1)]
                taken = age - 1
                with m.If(age != 0):
                    with m.If((taken < W) | (taken > margin + G)):
                        m.d.sync += baseline.eq(baseline + s_read.data)
                    with m.If(taken == margin):
                        m.d.sync += centre.eq(s_read.data)
                with m.If(age == S):
                    m.next = "BUMP"

            with m.State("BUMP"):  # B >> R, saturated to N bits
                width_bits = len(baseline) + 2
                product, around = Signal(signed(width_bits)), Signal(signed(width_bits))
                m.d.comb += [product.eq(centre * (2 * W)), around.eq(baseline)]
                shifted = (product - around) >> self.R
                top = 2 ** (N - 1)
                m.d.sync += bump.eq(  # shifted is sign-extended where narrower than N
                    Mux(shifted >= top, top - 1, Mux(shifted < -top, -top, shifted))
                )
                with m.If(frame >= first_bump):
                    m.next = "MAGNITUDE"
                with m.Else():
                    m.next = "OUT"

            with m.State("MAGNITUDE"):
                m.d.sync += [value.eq(abs(bump)), shifts.eq(0)]
                m.next = "NORMAL"

            with m.State("NORMAL"):  # shift |b| right until it is below 2^(Q+1)
                with m.If(value[Q + 1 :].any()):
                    m.d.sync += [value.eq(value >> 1), shifts.eq(shifts + 1)]
                with m.Else():
                    m.next = "CODE"

            with m.State("CODE"):  # round the last bit off (halves up) and code the mini-float
                big = value[Q]  # |b| had more than Q bits: e = shifts + 1 dropped
                rounded = Signal(Q + 1)
                exponent = Signal(EXPONENT_BITS)  # at most N − Q + 1, checked when built
                m.d.comb += [
                    rounded.eq(Mux(big, (value[: Q + 1] + 1) >> 1, value[:Q])),
                    exponent.eq(
                        Mux(
                            rounded[Q],  # rounded up to 2^Q: one more bit of exponent
                            shifts + 3,
                            Mux(big, shifts + 2, Mux(rounded[Q - 1], 1, 0)),
                        )
                    ),
                    b_read.addr.eq(b_address),  # the bump that leaves the window
                ]
                mantissa = Mux(rounded[Q], 0, rounded[: Q - 1])[: Q - 1]  # Q − 1 bits, 0 for Q 1
                m.d.sync += new_code.eq(Cat(mantissa, exponent[:EXPONENT_BITS], bump < 0))
                m.next = "FETCH"

            with m.State("FETCH"):  # the leaving bump and the sum arrive; ask for b(f)
                m.d.comb += b_read.addr.eq(f_address)
                m.d.sync += [
                    old_code.eq(Mux(frame >= first_leaving, b_read.data, 0)),
                    total.eq(Mux(frame == first_bump, 0, q_read.data)),
                    count.eq(Mux(frame >= first_leaving, B, frame - first_bump + 1)),
                ]
                m.next = "SQUARE_NEW"

            with m.State("SQUARE_NEW"):
                m.d.comb += [
                    b_write.addr.eq(b_address),
                    b_write.data.eq(new_code),
                    b_write.en.eq(1),
                    square_code.eq(new_code),
                ]
                m.d.sync += [f_code.eq(b_read.data), new_square.eq(square)]
                m.next = "SQUARE_OLD"

            with m.State("SQUARE_OLD"):
                m.d.comb += square_code.eq(old_code)
                m.d.sync += old_square.eq(square)
                m.next = "SUM"

            with m.State("SUM"):
                updated = (total + new_square - old_square)[: self.sum_bits]
                m.d.comb += [q_write.data.eq(updated), q_write.en.eq(1)]
                m.d.sync += [divide.eq(updated), remainder.eq(0), step.eq(0)]
                with m.If(frame >= first_x):
                    m.next = "MEAN"
                with m.Else():
                    m.next = "OUT"

            with m.State("MEAN"):  # one quotient bit of Σ b² / n a clock
                shifted = Cat(divide[-1], remainder)
                fits = shifted >= count
                m.d.sync += [
                    remainder.eq(Mux(fits, shifted - count, shifted)),
                    divide.eq(Cat(fits, divide[:-1])),
                    step.eq(step + 1),
                ]
                with m.If(step == self.sum_bits - 1):
                    m.d.sync += [
                        root_op.eq(Cat(fits, divide[:-1])),  # the mean
                        root.eq(0),
                        root_bit.eq(1 << (2 * N - 2)),  # the mean is at most 2^(2N − 2)
                    ]
                    m.next = "SQRT"

            with m.State("SQRT"):  # two bits of the mean a clock
                trial = root + root_bit
                fits = root_op >= trial
                m.d.sync += [
                    root_op.eq(Mux(fits, root_op - trial, root_op)),
                    root.eq(Mux(fits, (root >> 1) + root_bit, root >> 1)),
                    root_bit.eq(root_bit >> 2),
                ]
                with m.If(root_bit == 1):
                    m.next = "SIGMA"

            with m.State("SIGMA"):  # σ at least 1; b(f)'s mantissa and its bits to divide
                mantissa, shift, _ = decode(f_code)
                m.d.sync += [
                    sigma.eq(Mux(root == 0, 1, root[:N])),
                    feed.eq(mantissa),
                    steps.eq(shift + (Q + F + 1)),
                    quotient.eq(0),
                    rest.eq(0),
                    step.eq(0),
                ]
                m.next = "QUOT"

            with m.State("QUOT"):  # one bit of |b(f)| · 2^(F+1) / σ a clock
                shifted = Cat(feed[-1], rest)
                fits = shifted >= sigma
                m.d.sync += [
                    rest.eq(Mux(fits, shifted - sigma, shifted)),
                    quotient.eq(Cat(fits, quotient[:-1])),
                    feed.eq(feed << 1),
                    step.eq(step + 1),
                ]
                with m.If(step == steps - 1):
                    m.next = "ROUND"

            with m.State("ROUND"):  # halves away from zero, capped, b(f)'s sign
                size = (quotient + 1) >> 1
                clipped = Mux(size > self.limit, self.limit, size)
                m.d.sync += [x.eq(Mux(decode(f_code)[2], -clipped, clipped)), x_valid.eq(1)]
                m.next = "OUT"

            with m.State("OUT"):
                m.d.comb += self.m_tvalid.eq(1)
                with m.If(self.m_tready):
                    m.next = "IDLE"
        return m
