"""The track stack trigger in hardware, in Amaranth 0.5: the bumps core
(``hls/stack_bumps.py``) streaming its x into the tracks core (``hls/stack_tracks.py``). Raw
D3 counts in, one pixel a beat; each pixel's Z and trigger bit out (Z above ``threshold``), the
integer twin's (``IntegerTrackStack``) exact scores. The two cores work at once, each on its
own pixel: a pixel takes the slower one's clocks (the tracks', about 1,100 at the defaults).

A beat out at input frame f (frames counted from reset) carries Z of frame f − lag, lag = H +
G + W + D, with m_z_valid once every x its tracks read came from a whole window: f ≥ 2(G + W)
+ H + 2D + K − 1. The trigger bit is 0 where Z is not valid.

Pixel mask: a ``pixels`` × 1-bit memory (initialised from ``mask``; 1 = excluded, as the
twin's ``excluded``), read for each beat from the bumps core to the tracks core: an excluded
pixel's x enters the tracks as 0 and its Z is not valid (nor its trigger bit). Written one
pixel a clock through mask_we / mask_addr / mask_data; a write takes effect for the beats
handed on from the second clock after it. The twin's scores follow only once the x already
in the tracks' ring have gone: up to 2D + K − 1 frames after a change (31 at the defaults).
Reset does not touch it.

Stack–gate coincidence (``coincidence`` = (frames, reach); ``hls/stack_coincidence.py``): each
input beat also brings the gate's bit of its pixel-frame (``s_gate``: the trigger core's peak
gate code above the coincidence's lower code, ``m_gate_low``, which is 0 at a masked pixel: the
bit must come masked, as ``stack_scan`` blanks an excluded pixel's codes), kept in a FIFO of
``GATE_FIFO`` bits until the beat's Z goes out; the beat out carries ``m_coinc``: Z valid and
above ``coincidence_threshold``, with a gate bit within ``frames`` frames and ``reach`` pixels
of Z's pixel-frame (``detection.stack_coincidence.coincident``). Its 14 clocks a pixel (reach
1) overlap the tracks' next 1,100; a beat in waits while the FIFO is full.
"""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from uvhunt.hls.stack_bumps import StackBumps
from uvhunt.hls.stack_coincidence import StackCoincidence
from uvhunt.hls.stack_tracks import StackTracks
from uvhunt.hls.trigger_core import RAW_BITS

GATE_FIFO = 8
"""Gate bits held between a beat in and its beat out (the beats inside the two cores)."""


class StackTrigger(wiring.Component):
    """Raw counts (``s_tdata``) in; Z (``m_z``, steps of 2^−F σ), ``m_z_valid`` and
    ``m_trig`` (Z > ``threshold``) out, on ``side`` × ``side`` pixels; with a
    ``coincidence`` (frames, reach), ``s_gate`` in and ``m_coinc`` out as well."""

    def __init__(
        self,
        bumps: StackBumps,
        tracks: StackTracks,
        mask=None,
        coincidence: tuple[int, int] | None = None,
    ):
        if bumps.pixels != tracks.pixels or bumps.limit != tracks.limit:
            raise ValueError(
                f"the bumps core ({bumps.pixels} pixels, limit {bumps.limit}) and the tracks "
                f"core ({tracks.pixels} pixels, limit {tracks.limit}) must agree"
            )
        self.bumps, self.tracks = bumps, tracks
        self.mask = [False] * bumps.pixels if mask is None else [bool(b) for b in mask]
        if len(self.mask) != bumps.pixels:
            raise ValueError(f"the mask needs {bumps.pixels} bits (got {len(self.mask)})")
        self.first_z = 2 * (bumps.G + bumps.W) + bumps.H + 2 * tracks.D + tracks.K - 1
        """The input frame of a pixel's first valid Z."""
        self.coincidence = None
        ports = {}
        if coincidence is not None:
            frames, reach = coincidence
            self.coincidence = StackCoincidence(tracks.side, self.lag, tracks.z_bits, frames, reach)
            ports = {
                "s_gate": In(1),
                "coincidence_threshold": In(signed(tracks.z_bits)),
                "m_coinc": Out(1),
            }
        super().__init__(
            {
                **ports,
                "s_tdata": In(RAW_BITS),
                "s_tvalid": In(1),
                "s_tready": Out(1),
                "s_tuser": In(1),
                "threshold": In(signed(tracks.z_bits)),
                "m_tvalid": Out(1),
                "m_tready": In(1),
                "m_tuser": Out(1),
                "m_z": Out(signed(tracks.z_bits)),
                "m_z_valid": Out(1),
                "m_trig": Out(1),
                "mask_we": In(1),
                "mask_addr": In(range(bumps.pixels)),
                "mask_data": In(1),
            }
        )

    @classmethod
    def for_stack(
        cls, stack, side: int = 48, mask=None, coincidence: tuple[int, int] | None = None
    ) -> "StackTrigger":
        """The trigger computing ``stack``'s Z (an ``IntegerTrackStack``) on ``side`` ×
        ``side`` pixels; ``mask``: side² bools, flat, True where a pixel is excluded;
        ``coincidence``: (frames, reach) of the stack–gate coincidence, or None."""
        if mask is not None and len(mask) != side * side:
            raise ValueError(f"the mask needs {side * side} bits (got {len(mask)})")
        bumps, tracks = StackBumps.for_stack(stack, side * side), StackTracks.for_stack(stack, side)
        return cls(bumps, tracks, mask, coincidence)

    @property
    def lag(self) -> int:
        """Frames between a sample coming in and its frame's Z going out."""
        return self.bumps.lag + self.tracks.D

    @property
    def worst_clocks_per_pixel(self) -> int:
        """Clocks a pixel takes at worst once the cores work, each on its own pixel: the
        slowest core's (the coincidence works on the tracks' last pixel)."""
        cores = [self.bumps, self.tracks]
        clocks = [core.worst_clocks_per_pixel for core in cores]
        return max(clocks + ([self.coincidence.clocks_per_pixel] if self.coincidence else []))

    def elaborate(self, platform):
        m = Module()
        bumps, tracks = self.bumps, self.tracks
        m.submodules.bumps, m.submodules.tracks = bumps, tracks
        frame = Signal(range(self.first_z + 1))  # input frames since reset, saturating
        started = Signal()
        pixel = Signal(range(bumps.pixels))  # of the beat handed to the tracks next
        excluded = Memory(shape=1, depth=bumps.pixels, init=[int(b) for b in self.mask])
        m.submodules.excluded = excluded
        # read a clock after its address: the bumps core holds m_tuser from its beat in, a
        # hundred clocks before its beat out, and ``pixel`` changes only at a beat
        mask_write, mask_read = excluded.write_port(), excluded.read_port()
        index = Mux(bumps.m_tuser, 0, pixel)
        m.d.comb += [
            mask_write.en.eq(self.mask_we),
            mask_write.addr.eq(self.mask_addr),
            mask_write.data.eq(self.mask_data),
            mask_read.addr.eq(index),
        ]
        room = 1  # for the beat's gate bit
        if self.coincidence is not None:
            m.submodules.gates = gates = SyncFIFO(width=1, depth=GATE_FIFO)
            room = gates.w_rdy
        m.d.comb += [
            bumps.s_tdata.eq(self.s_tdata),
            bumps.s_tvalid.eq(self.s_tvalid & room),
            self.s_tready.eq(bumps.s_tready & room),
            bumps.s_tuser.eq(self.s_tuser),
            tracks.s_x.eq(Mux(mask_read.data, 0, bumps.m_x)),
            tracks.s_tvalid.eq(bumps.m_tvalid),
            tracks.s_tuser.eq(bumps.m_tuser),
            bumps.m_tready.eq(tracks.s_tready),
        ]
        # the tracks' frame count follows the bumps' beats: count them the same way here
        beat = tracks.s_tvalid & tracks.s_tready
        with m.If(beat):
            m.d.sync += [started.eq(1), pixel.eq(Mux(index == bumps.pixels - 1, 0, index + 1))]
            with m.If(tracks.s_tuser & started & (frame != self.first_z)):
                m.d.sync += frame.eq(frame + 1)
        valid = Signal()  # the beat's frame has a whole Z, and its pixel is not excluded
        with m.If(beat):
            m.d.sync += valid.eq(
                (frame + (tracks.s_tuser & started) >= self.first_z) & ~mask_read.data
            )
        out = tracks  # the beat out: the tracks core's, or the coincidence's after it
        z_valid = tracks.m_z_valid & valid
        if self.coincidence is None:
            m.d.comb += tracks.m_tready.eq(self.m_tready)
        else:
            out = coincidence = self.coincidence
            m.submodules.coincidence = coincidence
            m.d.comb += [
                gates.w_en.eq(self.s_tvalid & self.s_tready),
                gates.w_data.eq(self.s_gate),
                coincidence.s_tvalid.eq(tracks.m_tvalid),
                tracks.m_tready.eq(coincidence.s_tready),
                coincidence.s_tuser.eq(tracks.m_tuser),
                coincidence.s_z.eq(tracks.m_z),
                coincidence.s_z_valid.eq(z_valid),
                coincidence.s_gate.eq(gates.r_data),
                gates.r_en.eq(tracks.m_tvalid & coincidence.s_tready),
                coincidence.threshold.eq(self.coincidence_threshold),
                coincidence.m_tready.eq(self.m_tready),
                self.m_coinc.eq(coincidence.m_coinc),
            ]
            z_valid = coincidence.m_z_valid
        m.d.comb += [
            self.m_tvalid.eq(out.m_tvalid),
            self.m_tuser.eq(out.m_tuser),
            self.m_z.eq(out.m_z),
            self.m_z_valid.eq(z_valid),
            self.m_trig.eq(z_valid & (out.m_z > self.threshold)),
        ]
        return m
