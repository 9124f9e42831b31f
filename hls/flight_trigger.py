"""The flight trigger in one design, in Amaranth 0.5: the trigger core (``hls/trigger_core.py``:
the network, its peak gate with two codes) and the track stack trigger with the stack–gate
coincidence (``hls/stack_trigger.py``, ``hls/stack_coincidence.py``), fed by one stream of raw
D3 counts, one pixel a beat.

Each beat in goes to the trigger core and, with its s_tuser, into a FIFO of ``RAW_FIFO``
beats; when the core hands out that pixel's beat, the stack trigger takes the raw counts from
the FIFO with the core's ``m_gate_low`` (the gate's code above the coincidence's code) as its
``s_gate``. The core's beat out goes both to the core's outputs (``m_tvalid`` / ``m_tready``)
and to the stack trigger, and is released once both have taken it; the stack trigger's beat
out has its own handshake (``m_stack_tvalid`` / ``m_stack_tready``), Z of frame f − lag at the
beat of frame f. The two work at once, each on its own pixel: a pixel takes the slower one's
clocks. One pixel mask, written through one port, excludes a pixel from both.
"""

from amaranth.hdl import Cat, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from uvhunt.hls.stack_trigger import StackTrigger
from uvhunt.hls.trigger_core import GATE_THRESHOLD_BITS, RAW_BITS, TriggerCore

RAW_FIFO = 4
"""Beats of raw counts held between the core taking a beat and the stack trigger taking it
(the core holds one at a time)."""

CORE_OUTPUTS = (
    "m_score",
    "m_trig",
    "m_window_valid",
    "m_tuser",
    "m_tlast",
    "m_count",
    "m_frame_trig",
    "m_gate_trig",
    "m_gate_low",
    "m_seu_corrected",
    "m_seu_detected",
)
"""The trigger core's outputs the flight trigger hands on, under the same names."""


class FlightTrigger(wiring.Component):
    """Raw counts (``s_tdata``) in; the trigger core's beat (``CORE_OUTPUTS``) and the stack
    trigger's (``m_z``, ``m_z_valid``, ``m_stack_trig``, ``m_coinc``) out."""

    def __init__(self, core: TriggerCore, stack: StackTrigger):
        if stack.coincidence is None:
            raise ValueError("the stack trigger must be built with its coincidence")
        if core.P != stack.bumps.pixels:
            raise ValueError(
                f"the trigger core ({core.P} pixels) and the stack trigger "
                f"({stack.bumps.pixels}) must see the same pixels"
            )
        self.core, self.stack = core, stack
        core_ports = {name: Out(getattr(core, name).shape()) for name in CORE_OUTPUTS}
        z = signed(stack.tracks.z_bits)
        super().__init__(
            {
                "s_tdata": In(RAW_BITS),
                "s_tvalid": In(1),
                "s_tready": Out(1),
                "s_tuser": In(1),
                "threshold": In(core.threshold.shape()),
                "gate_threshold": In(GATE_THRESHOLD_BITS),
                "gate_low_threshold": In(GATE_THRESHOLD_BITS),
                "stack_threshold": In(z),
                "coincidence_threshold": In(z),
                "m_tvalid": Out(1),
                "m_tready": In(1),
                **core_ports,
                "m_stack_tvalid": Out(1),
                "m_stack_tready": In(1),
                "m_stack_tuser": Out(1),
                "m_z": Out(z),
                "m_z_valid": Out(1),
                "m_stack_trig": Out(1),
                "m_coinc": Out(1),
                "mask_we": In(1),
                "mask_addr": In(range(core.P)),
                "mask_data": In(1),
            }
        )

    def elaborate(self, platform):
        m = Module()
        core, stack = self.core, self.stack
        m.submodules.core, m.submodules.stack = core, stack
        m.submodules.raw = raw = SyncFIFO(width=RAW_BITS + 1, depth=RAW_FIFO)
        for target in (core, stack):
            m.d.comb += [
                target.mask_we.eq(self.mask_we),
                target.mask_addr.eq(self.mask_addr),
                target.mask_data.eq(self.mask_data),
            ]
        m.d.comb += [
            core.s_tdata.eq(self.s_tdata),
            core.s_tuser.eq(self.s_tuser),
            core.s_tvalid.eq(self.s_tvalid & raw.w_rdy),
            self.s_tready.eq(core.s_tready & raw.w_rdy),
            raw.w_en.eq(self.s_tvalid & self.s_tready),
            raw.w_data.eq(Cat(self.s_tdata, self.s_tuser)),
            core.threshold.eq(self.threshold),
            core.gate_threshold.eq(self.gate_threshold),
            core.gate_low_threshold.eq(self.gate_low_threshold),
            stack.threshold.eq(self.stack_threshold),
            stack.coincidence_threshold.eq(self.coincidence_threshold),
        ]
        m.d.comb += [getattr(self, name).eq(getattr(core, name)) for name in CORE_OUTPUTS]
        # the core's beat forked: to the outputs and to the stack trigger, each once
        given_out, given_stack = Signal(), Signal()  # taken already, while the beat waits
        to_out = core.m_tvalid & ~given_out
        to_stack = core.m_tvalid & ~given_stack
        out_takes = to_out & self.m_tready
        stack_takes = to_stack & stack.s_tready
        m.d.comb += [
            self.m_tvalid.eq(to_out),
            stack.s_tvalid.eq(to_stack),
            stack.s_tdata.eq(raw.r_data[:RAW_BITS]),
            stack.s_tuser.eq(raw.r_data[RAW_BITS]),
            stack.s_gate.eq(core.m_gate_low),
            raw.r_en.eq(stack_takes),
            core.m_tready.eq((given_out | out_takes) & (given_stack | stack_takes)),
        ]
        with m.If(core.m_tvalid & core.m_tready):
            m.d.sync += [given_out.eq(0), given_stack.eq(0)]
        with m.Else():
            m.d.sync += [
                given_out.eq(given_out | out_takes),
                given_stack.eq(given_stack | stack_takes),
            ]
        m.d.comb += [
            self.m_stack_tvalid.eq(stack.m_tvalid),
            stack.m_tready.eq(self.m_stack_tready),
            self.m_stack_tuser.eq(stack.m_tuser),
            self.m_z.eq(stack.m_z),
            self.m_z_valid.eq(stack.m_z_valid),
            self.m_stack_trig.eq(stack.m_trig),
            self.m_coinc.eq(stack.m_coinc),
        ]
        return m
