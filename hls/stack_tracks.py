"""The track stack's tracks in a streaming core, in Amaranth 0.5: each pixel's bump x in, one
pixel a beat (as the bumps core ``hls/stack_bumps.py`` gives them), and each pixel's Z out,
the exact integers of the integer twin (``IntegerTrackStack.best_kept``). The second half of
the track stack in hardware.

For pixel p, when x of frame f comes in, the core gives Z of frame t = f − D:

    S_v(t) = Σ_k x(t − k, p − o_v(k)),  k = 0 … K − 1   (o_v(k): the track's pixel offset)
    Z(t)   = max over v of S_v(t) − max(S_v(t − D), S_v(t + D))

reading x of frames f − 2D − K + 1 … f from a ring of 32 frames a pixel (x of frame f at
pixel p itself, the one just in: every other pixel a track reaches is read in earlier
frames). Pixels beyond the focal surface's edge add 0, as the twin's padding. Two reads a clock
(two read ports); a velocity's 3K reads take ⌈3K / 2⌉ clocks, all velocities about 1,100
clocks a pixel at the defaults (K 11, 64 velocities). A pixel's beat out carries Z(t) and
m_z_valid once t ≥ K − 1 + D (frames counted from reset); earlier beats have m_z_valid 0.
``s_tuser`` = 1 forces pixel 0; the memories are not cleared at reset, and no frame before the
reset is read.
"""

import numpy as np
from amaranth.hdl import Array, C, Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from uvhunt.hls.trigger_core import BLOCK_RAM

RING_BITS = 5
"""log2 of the frames of x kept a pixel (32: at least 2D + K)."""
PIPELINE = 6
"""Clocks from a read's issue to the pixel's best Z (ROM, address, memory, sum, Z, max)."""


class StackTracks(wiring.Component):
    """x (``s_x``, steps of 2^−F σ, one pixel a beat, ``side`` × ``side`` pixels a frame) in;
    Z (``m_z``, the same steps) out, D frames late. ``offsets``: (velocities, K, 2) ints, the
    pixel offsets (rows, columns) k frames back along each track (``IntegerTrackStack.offsets``);
    ``limit``: the largest |x|."""

    def __init__(self, offsets, recurrence: int = 10, limit: int = 32, side: int = 48):
        offsets = np.asarray(offsets, np.int64)
        if offsets.ndim != 3 or offsets.shape[2] != 2 or min(offsets.shape[:2]) < 1:
            raise ValueError(f"offsets must be (velocities, K, 2) (got {offsets.shape})")
        velocities, frames = offsets.shape[:2]
        if offsets[:, 0].any():
            raise ValueError("every track starts at its own pixel: offsets[:, 0] must be 0")
        if not 1 <= side <= 48 or limit < 1 or recurrence < 1:
            raise ValueError(
                f"side 1…48, limit ≥ 1 and recurrence ≥ 1 (got {side}, {limit}, {recurrence})"
            )
        if 2 * recurrence + frames > 2**RING_BITS:
            raise ValueError(
                f"2D + K frames ({2 * recurrence + frames}) must fit the ring of {2**RING_BITS}"
            )
        self.offsets, self.V, self.K, self.D = offsets, velocities, frames, recurrence
        self.side, self.pixels, self.limit = side, side * side, limit
        self.x_bits = limit.bit_length() + 1
        self.stack_bits = (frames * limit).bit_length() + 1
        self.z_bits = self.stack_bits + 1
        self.clocks_per_velocity = -(-3 * frames // 2)
        super().__init__(
            {
                "s_x": In(signed(self.x_bits)),
                "s_tvalid": In(1),
                "s_tready": Out(1),
                "s_tuser": In(1),
                "m_tvalid": Out(1),
                "m_tready": In(1),
                "m_tuser": Out(1),
                "m_z": Out(signed(self.z_bits)),
                "m_z_valid": Out(1),
            }
        )

    @classmethod
    def for_stack(cls, stack, side: int = 48) -> "StackTracks":
        """The core computing ``stack``'s Z (an ``IntegerTrackStack``: its offsets,
        recurrence and limit) on ``side`` × ``side`` pixels."""
        return cls(stack.offsets(), stack.recurrence, stack.limit, side)

    def reads(self) -> list[tuple[int, int, int]]:
        """The schedule of one velocity: (clock, port, read) with read = 3k + which, which 0
        for S(t − D), 1 for S(t) and 2 for S(t + D); port A takes the even reads."""
        return [(r // 2, r % 2, r) for r in range(3 * self.K)]

    @property
    def worst_clocks_per_pixel(self) -> int:
        """Clocks from one accepted beat to the next when nothing stalls."""
        return 3 + self.V * self.clocks_per_velocity + PIPELINE + 1

    def elaborate(self, platform):
        m = Module()
        side, P, K, D, V = self.side, self.pixels, self.K, self.D, self.V
        ring = 2**RING_BITS
        first_z = K - 1 + 2 * D  # the input frame of a pixel's first Z
        cpv = self.clocks_per_velocity
        shift_bits = int(np.abs(self.offsets).max()).bit_length() + 1  # dr, dc: signed

        x_ring = Memory(shape=signed(self.x_bits), depth=P * ring, init=[], attrs=BLOCK_RAM)
        flat = self.offsets[..., 0] * side + self.offsets[..., 1]
        flat_bits = int(np.abs(flat).max()).bit_length() + 1
        words = [
            (int(f) & (2**flat_bits - 1))
            | (int(dr) & (2**shift_bits - 1)) << flat_bits
            | (int(dc) & (2**shift_bits - 1)) << (flat_bits + shift_bits)
            for f, (dr, dc) in zip(flat.reshape(-1), self.offsets.reshape(-1, 2), strict=True)
        ]
        track_rom = Memory(
            shape=flat_bits + 2 * shift_bits, depth=len(words), init=words, attrs=BLOCK_RAM
        )
        m.submodules.x_ring, m.submodules.track_rom = x_ring, track_rom
        write = x_ring.write_port()
        ports = [(x_ring.read_port(), track_rom.read_port()) for _ in range(2)]

        # ---- frame position
        next_pixel, pixel = Signal(range(P)), Signal(range(P))
        row, col = Signal(range(side)), Signal(range(side))
        started = Signal()
        frame = Signal(range(first_z + 1))  # saturates at first_z
        slot = Signal(RING_BITS)  # the input frame's ring slot

        # ---- the schedule: velocity v, clock c of its reads
        v = Signal(range(V + 1))
        c = Signal(range(cpv))
        issuing = Signal()
        drain = Signal(range(PIPELINE + 1))
        schedule = {port: [] for port in (0, 1)}
        for clock, port, read in self.reads():
            schedule[port].append((clock, read))
        k_of = {p: Array(C(r // 3, range(K + 1)) for _, r in schedule[p]) for p in (0, 1)}
        which_of = {p: Array(C(r % 3, 2) for _, r in schedule[p]) for p in (0, 1)}

        stacks = [Signal(signed(self.stack_bits), name=f"stack_{i}") for i in range(3)]
        best = Signal(signed(self.z_bits))
        lowest = -(2 ** (self.z_bits - 1))
        z_out, z_valid = Signal(signed(self.z_bits)), Signal()

        x_in = Signal(signed(self.x_bits))
        m.d.comb += [
            self.m_tuser.eq(pixel == 0),
            self.m_z.eq(z_out),
            self.m_z_valid.eq(z_valid),
        ]

        # ---- each port's pipeline: ROM (1) → address (2) → memory (3) → sums (4)
        first_at = [Signal(name=f"first_{n}") for n in range(4)]  # the velocity's first clock
        last_at = [Signal(name=f"last_{n}") for n in range(4)]  # … and its last
        m.d.sync += [
            first_at[0].eq(issuing & (c == 0)),
            last_at[0].eq(issuing & (c == cpv - 1)),
        ]
        for n in range(1, 4):
            m.d.sync += [first_at[n].eq(first_at[n - 1]), last_at[n].eq(last_at[n - 1])]
        taken, addresses = [], []
        for port, (x_read, rom_read) in enumerate(ports):
            has = len(schedule[port])
            in_schedule = c < has
            k = Mux(in_schedule, k_of[port][c], K)
            which = Mux(in_schedule, which_of[port][c], 0)
            m.d.comb += rom_read.addr.eq(v * K + Mux(k < K, k, 0))
            # stage 1: the ROM word arrives; stage 2: the address and whether the pixel exists
            k1, which1, real1 = Signal(range(K + 1)), Signal(2), Signal()
            m.d.sync += [k1.eq(k), which1.eq(which), real1.eq(issuing & (k < K))]
            word = rom_read.data
            offset = word[:flat_bits].as_signed()
            dr = word[flat_bits : flat_bits + shift_bits].as_signed()
            dc = word[flat_bits + shift_bits :].as_signed()
            r2, c2 = row - dr, col - dc
            inside = (r2 >= 0) & (r2 < side) & (c2 >= 0) & (c2 < side)
            age = Mux(which1 == 0, 2 * D, Mux(which1 == 1, D, 0)) + k1
            source = (pixel - offset)[: len(pixel)]
            address = Signal(range(P * ring))
            valid2, which2 = Signal(), Signal(2)
            m.d.sync += [
                address.eq(Cat((slot - age)[:RING_BITS], source)),
                valid2.eq(real1 & inside),
                which2.eq(which1),
            ]
            m.d.comb += x_read.addr.eq(address)
            addresses.append(address)
            # stage 3: x arrives
            valid3, which3 = Signal(), Signal(2)
            m.d.sync += [valid3.eq(valid2), which3.eq(which2)]
            taken.append((Mux(valid3, x_read.data, 0), which3))
        m.d.comb += write.addr.eq(addresses[0])  # port A reads and writes: one port of a BRAM

        # stage 3 → 4: the sums; a velocity's first reads start them afresh
        for i, stack in enumerate(stacks):
            add = sum(Mux(which == i, x, 0) for x, which in taken)
            m.d.sync += stack.eq(Mux(first_at[2], 0, stack) + add)
        # stage 4 → 5: Z of the velocity; stage 5 → 6: the best
        z_v = Signal(signed(self.z_bits))
        done5 = Signal()
        beside = Mux(stacks[0] > stacks[2], stacks[0], stacks[2])
        m.d.sync += [z_v.eq(stacks[1] - beside), done5.eq(last_at[3])]
        with m.If(done5 & (z_v > best)):
            m.d.sync += best.eq(z_v)

        with m.FSM(name="state"):
            with m.State("IDLE"):
                m.d.comb += self.s_tready.eq(1)
                index = Mux(self.s_tuser, 0, next_pixel)
                new_frame = (index == 0) & started
                next_slot = Mux(new_frame, slot + 1, slot)[:RING_BITS]
                at_zero = index == 0
                with m.If(self.s_tvalid):
                    m.d.sync += [
                        addresses[0].eq(Cat(next_slot, index)),  # port A writes it next
                        x_in.eq(self.s_x),
                        pixel.eq(index),
                        next_pixel.eq(Mux(index == P - 1, 0, index + 1)),
                        row.eq(Mux(at_zero, 0, Mux(col == side - 1, row + 1, row))),
                        col.eq(Mux(at_zero | (col == side - 1), 0, col + 1)),
                        started.eq(1),
                        slot.eq(next_slot),
                        v.eq(0),
                        c.eq(0),
                        best.eq(lowest),
                        z_valid.eq(0),
                    ]
                    with m.If(new_frame & (frame != first_z)):
                        m.d.sync += frame.eq(frame + 1)
                    m.next = "WRITE"
            with m.State("WRITE"):  # through port A's address: one read-write port
                m.d.comb += [write.data.eq(x_in), write.en.eq(1)]
                m.next = "ISSUE"
            with m.State("ISSUE"):  # two reads a clock, velocity by velocity
                m.d.comb += issuing.eq(1)
                m.d.sync += c.eq(Mux(c == cpv - 1, 0, c + 1))
                with m.If(c == cpv - 1):
                    m.d.sync += v.eq(v + 1)
                    with m.If(v == V - 1):
                        m.d.sync += drain.eq(0)
                        m.next = "DRAIN"
            with m.State("DRAIN"):  # the last velocity's reads pass the pipeline
                m.d.sync += drain.eq(drain + 1)
                with m.If(drain == PIPELINE - 1):
                    m.next = "RESULT"
            with m.State("RESULT"):
                m.d.sync += [z_out.eq(best), z_valid.eq(frame >= first_z)]
                m.next = "OUT"
            with m.State("OUT"):
                m.d.comb += self.m_tvalid.eq(1)
                with m.If(self.m_tready):
                    m.next = "IDLE"
        return m
