"""The streaming trigger core, in Amaranth 0.5: D3 frames in, per-pixel scores and a
trigger map out, the golden model's exact integers (see docs/commands/core.md).

Preprocessing (``uvhunt.quant.preprocess`` with ``history_bits`` K, M = 2^K - 1): the core
stores s = min(raw >> shift, M) per pixel and frame, and computes from the window's 48
samples d_i = s_i - s_new (K + 1 bits, exact), b = floor(sum d / 48), q_i = clip(d_i - b).

Architecture (one pixel at a time, time-multiplexed MLP):
  IDLE : accept one input beat (s_tready=1 only here).
         K = 9: history = P*L words of 9 bits (addr p*L + slot); the write of s_new
         to addr p*L + (t mod L) is registered and happens in the next cycle.
         K = 12: history = P*16 words of 36 bits, three 12-bit samples per word
         (slot j -> word p*16 + j//3, field j%3); the new sample is written by a
         read-modify-write during HIST (see below).
  HIST : K = 9: read the L samples of this pixel oldest first (slot (t+1) mod L ... t mod L);
         pipeline: BRAM -> register -> d_i = s_i - s_new (signed K + 1 bits) -> register
         -> store in the d-buffer (LUTRAM) and accumulate sum(d_i).
         K = 12: read the 16 words of the pixel (word 0..15); per word: register -> 3 differences
         d = s - s_new (signed K + 1 bits; the field of slot t mod L still holds frame
         t-L and gets d = 0, which is the d of s_new itself) -> register -> d-buffer word
         (16 x 39 LUTRAM, indexed by slot) + sum of the 3 d's -> accumulate.  The word holding
         slot t mod L is written back one cycle after it was read with that field replaced by
         s_new.  HIST runs in every frame (also t < L-1) because of this write.
  DIV  : b = floor(sum/L): restoring division of u = sum + M*L (0 <= u <= 2*M*L) by the
         constant L, K + 1 quotient bits, one per cycle; b = quo - M.
  MAC  : output-stationary MLP, N lanes = N neurons of one layer in parallel, one input x
         broadcast per cycle, N weights per cycle from one ROM word.  Two lanes share one
         multiplier (DSP48E1): A = w_hi*2^k + w_lo (bit pattern precomputed in the ROM),
         B = x (9-bit signed), accumulator P = 2^k*acc_hi + acc_lo (k = 19 for 5-bit weights).
         Layer-1 input q_i = clip(d_i - b, -128, 127) is computed on the fly from the d-buffer
         (K = 12: read in slot order starting at slot (t+1) mod L, i.e. oldest first).
         With ``input_bits`` n < 8, clipped once more to -2^(n-1) … 2^(n-1) - 1 for the
         network; the peak gate keeps the 8-bit q_i.
  post : per finished group, a serial post-processor (one neuron per cycle, overlapping the
         next group's MACs) unpacks acc_lo = sext(P[0:k]), acc_hi = P[k:] + P[k-1], adds the
         bias (bias ROM), and for hidden layers does ReLU, round-half-even shift
         floor((a + 2^(s-1) - 1 + a[s]) / 2^s) (a left shift a * 2^-s when s < 0: nothing
         to round) and clip to 255 into a ping-pong activation
         buffer; for the last layer it stores the score (accumulator, no activation).
  DRAIN: wait for the MAC pipeline and post-processor to empty before the next layer.
  OUT  : present one output beat per input pixel; hold until m_tready.
Peak input (``peak_input``, ``quant.preprocess.Preprocessing.peak_input``): layer 0 has L + 1
inputs, the last ⌊S/5⌋ with S the peak gate's largest 5-frame sum (with ``input_bits`` < 8, the
largest 5-frame sum of the network's clipped inputs, found beside it). The gate finds S on group
0's pass over q_0 … q_{L-1}; the sequencer holds input L of group 0 until S is final and
divided (3 clocks), the accumulators keep their value through the gap, and every later group
takes the stored quotient at once.
Peak gate (``detection.peak_gate``): S, its centre c and V from group 0's pass over layer 0's
inputs, then code > K decided without division for two codes, K = gate_threshold (m_gate_trig)
and K = gate_low_threshold (m_gate_low; e.g. the stack–gate coincidence's lower code), all
ones never firing: eight products one after the other on one shift-add multiplier (at most
126 clocks after the pass, 34 of them for the low code; in the shadow of the later MAC passes
for the default model), both bits written at once; DRAIN waits for them.
Frames with t < L-1 skip HIST..DRAIN (K = 12: skip DIV..DRAIN) and emit a beat with
m_window_valid=0, score=0, trig=0.
Frame position comes from an internal pixel counter (P pixels per frame); s_tuser=1 forces
pixel index 0 (resynchronisation); s_tlast is not used.  m_count is the running count of
triggered pixels in the current frame (the frame total on the m_tlast beat), m_frame_trig =
m_count != 0.
Pixel mask: a P x 1-bit memory (initialised from ``mask``; 1 = the pixel never triggers),
read at the accepted pixel's index when its beat is taken and held until the next one; m_trig
is 0 for a masked pixel (m_score is still its score), and m_count counts unmasked triggers.
Written one pixel per clock through mask_we/mask_addr/mask_data, at any time (a write takes
effect for pixels accepted after it; write between frames for a clean switch). Reset does
not touch it.
"""

import math
from contextlib import nullcontext
from typing import NamedTuple

import numpy as np
from amaranth.hdl import C, Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from uvhunt.hls.constant_divide import floor_divide
from uvhunt.hls.parity_pair import PairReader, pair_image
from uvhunt.hls.secded import Decoder, check_bits, correction_masks, encoder
from uvhunt.hls.tmr import Tripler
from uvhunt.quant.preprocess import PEAK_FRAMES

STATES = {
    name: code
    for code, name in enumerate(("IDLE", "HIST", "OUT", "DIV0", "DIV", "DIVEND", "MAC", "DRAIN"))
}
"""The control state machine's states and their codes."""
RAW_BITS = 22
"""Raw D3 sums: 16,384 GTUs × 255 counts < 2**22."""
TOP = "uvhunt_core"
"""The top module's name in the generated Verilog and RTLIL."""
GATE_SUM_FRAMES = PEAK_FRAMES
"""Frames of the peak gate's moving sum, and the peak input's divisor
(``quant.preprocess.PEAK_FRAMES``, as ``detection.peak_gate.SUM_FRAMES``)."""
BLOCK_RAM = {"rom_style": "block", "ram_style": "block"}
"""Attributes that keep a small ROM in block RAM (Yosys would build it of LUTs)."""
GATE_THRESHOLD_BITS = 24
"""Width of the peak gate's threshold code; all ones never triggers (codes stay below 2**23
for 8-bit inputs and 8 fraction bits)."""


class _Flags(NamedTuple):
    """A memory read's SEU flags (combinational), as the decoders give them."""

    corrected: object
    detected: object


def _bits_signed(lo, hi):
    """Bits of a signed type holding [lo, hi]."""
    n = 1
    while not (-(1 << (n - 1)) <= lo and hi <= (1 << (n - 1)) - 1):
        n += 1
    return n


class TriggerCore(wiring.Component):
    def __init__(
        self,
        model,
        P=2304,
        L=48,
        lanes=6,
        score_bits=24,
        thr_bits=24,
        history_bits=9,
        shift=5,
        mask=None,
        gate=(8, 39),
        gate_fraction_bits=8,
        ecc=False,
        history_check="secded",
        tmr=False,
        peak_input=False,
        input_bits=8,
    ):
        self.shift = shift
        assert 2 <= input_bits <= 8, f"network inputs of 2…8 bits (got {input_bits})"
        self.input_bits = input_bits
        """Width of the network's signed inputs, bits: below 8, layer 0 takes the window's
        8-bit codes clipped once more (``Preprocessing.bits``), and the peak input is ⌊S/5⌋ of
        those clipped codes (a second 5-frame sum beside the gate's); the gate keeps 8."""
        self.peak = bool(peak_input)
        """Layer 0's input L is the window's ⌊S/5⌋ (see the module docstring)."""
        self.tmr = bool(tmr)
        """Triple modular redundancy of the control registers (``hls/tmr.py``): the state
        machine, the frame, pixel, slot, layer, input and group counters, the addresses, the
        post-processor's and the peak gate's sequencers, the trigger count."""
        self.ecc = bool(ecc)
        """Error correction on every read of the memories the core keeps: SECDED on the
        history (``hls/secded.py``: one flipped bit per word corrected, two detected), the
        weight and bias ROMs stored twice with parity (``hls/parity_pair.py``: a word that
        fails its parity is served by its copy); ``m_seu_corrected`` and ``m_seu_detected``
        say so on the output beat of the pixel that read the word."""
        assert history_check in ("secded", "parity"), history_check
        self.history_check = history_check
        """With ``ecc``, the history's code: ``secded`` (a flip corrected), or ``parity``, one
        bit per sample (a flip detected: the beats of the pixel whose window holds the flipped
        sample flagged, until the sample leaves the window; 48 frames at most)."""
        self.mask_init = [0] * P if mask is None else [int(bool(b)) for b in mask]
        assert len(self.mask_init) == P, f"the mask has {len(self.mask_init)} pixels, not {P}"
        sizes = tuple(model["sizes"])
        assert history_bits in (9, 12), "supported history widths: 9, 12"
        self.K = history_bits
        self.M = (1 << history_bits) - 1  # the largest stored sample
        self.D = history_bits + 1  # bits of a difference of two samples
        # K = 9: one sample per word (P*L x 9, maps as 4Kx9); K = 12: three samples per 36-bit word
        self.pack = 1 if history_bits == 9 else 3
        assert L % self.pack == 0
        self.WPP = L // self.pack  # history words per pixel
        self.model = model
        self.sizes = sizes
        self.P, self.L, self.N = P, L, lanes
        self.nl = len(sizes) - 1
        self.wbits = model.get("wbits", 5)
        assert sizes[0] == L + self.peak, (
            "first layer width must equal the window length" + " + 1 (peak input)" * self.peak
        )
        assert lanes % 2 == 0, "lanes are used in pairs (two products per multiplier)"
        assert all(sizes[li] >= lanes for li in range(self.nl)), (
            "post-processing overlap needs n_in >= lanes"
        )
        wmin, wmax = -(1 << (self.wbits - 1)), (1 << (self.wbits - 1)) - 1
        for W in model["W"]:
            assert W.min() >= wmin and W.max() <= wmax
        # packing offset: A = hi' (wbits+1 bits) at bit k, must fit the 25-bit DSP A port
        self.k = 25 - (self.wbits + 1)
        self.acc_bits = 0
        self.val_lo, self.val_hi = 0, 0
        for li in range(self.nl):
            xlo, xhi = self.input_range if li == 0 else (0, 255)
            c = [wmin * xlo, wmin * xhi, wmax * xlo, wmax * xhi]
            lo, hi = sizes[li] * min(c), sizes[li] * max(c)
            # what must fit the packed field is each unit's own accumulator: its range over all
            # inputs, from its weights (exact; every partial sum lies inside it, as each term's
            # largest value is >= 0 and its smallest <= 0)
            W = np.asarray(model["W"][li], dtype=np.int64)
            unit_lo = np.minimum(W * xlo, W * xhi).sum(axis=0)
            unit_hi = np.maximum(W * xlo, W * xhi).sum(axis=0)
            ulo, uhi = int(unit_lo.min()), int(unit_hi.max())
            assert ulo >= -(1 << (self.k - 1)) and uhi <= (1 << (self.k - 1)) - 1, (
                f"layer {li}: packed accumulator range [{ulo},{uhi}] (from its weights) "
                f"does not fit k={self.k}"
            )
            self.val_lo, self.val_hi = min(self.val_lo, lo), max(self.val_hi, hi)
        self.acc_bits = self.k + self.k + 1  # 2^k*hi + lo, |hi| < 2^(k-1)
        bmin = min(int(B.min()) for B in model["B"])
        bmax = max(int(B.max()) for B in model["B"])
        self.bias_bits = _bits_signed(bmin, bmax)
        self.post_bits = _bits_signed(self.val_lo + bmin, self.val_hi + bmax)
        assert self.post_bits <= score_bits
        self.score_bits = score_bits
        self.gate_fraction_bits = gate_fraction_bits
        self.gate_peak_bits = _bits_signed(-128 * GATE_SUM_FRAMES, 127 * GATE_SUM_FRAMES)
        self.gate_spread_bits = (128 * 128 * L * L).bit_length()  # L·Σq² − (Σq)² <= (128 L)²
        assert GATE_SUM_FRAMES // 2 <= gate[0] <= gate[1] < L - GATE_SUM_FRAMES // 2, gate
        self.gate = tuple(gate)
        super().__init__(
            {
                "s_tdata": In(RAW_BITS),
                "s_tvalid": In(1),
                "s_tready": Out(1),
                "s_tlast": In(1),
                "s_tuser": In(1),
                "threshold": In(signed(thr_bits)),
                "m_tvalid": Out(1),
                "m_tready": In(1),
                "m_score": Out(signed(score_bits)),
                "m_trig": Out(1),
                "m_window_valid": Out(1),
                "m_tlast": Out(1),
                "m_tuser": Out(1),
                "m_count": Out(range(P + 1)),
                "m_frame_trig": Out(1),
                "gate_threshold": In(unsigned(GATE_THRESHOLD_BITS)),
                "gate_low_threshold": In(unsigned(GATE_THRESHOLD_BITS)),
                "m_gate_peak": Out(signed(self.gate_peak_bits)),
                "m_gate_centre": Out(range(L)),
                "m_gate_spread": Out(unsigned(self.gate_spread_bits)),
                "m_gate_trig": Out(1),
                "m_gate_low": Out(1),
                "mask_we": In(1),
                "mask_addr": In(range(P)),
                "mask_data": In(1),
                "m_seu_corrected": Out(1),
                "m_seu_detected": Out(1),
            }
        )
        self._build_roms()

    @property
    def input_range(self) -> tuple[int, int]:
        """The network's inputs' smallest and largest value (``input_bits`` signed)."""
        return -(1 << (self.input_bits - 1)), (1 << (self.input_bits - 1)) - 1

    # ------------------------------------------------------------------ ROM images
    def _build_roms(self):
        N, nl, sizes, wb = self.N, self.nl, self.sizes, self.wbits
        self.groups = [math.ceil(sizes[li + 1] / N) for li in range(nl)]
        words, biases = [], []
        self.fw = 2 * wb + 1  # lo (wb bits) + hi' (wb+1 bits)
        for li in range(nl):
            W, B = self.model["W"][li], self.model["B"][li]
            n_in, n_out = sizes[li], sizes[li + 1]
            for g in range(self.groups[li]):
                for i in range(n_in):
                    word = 0
                    for mm in range(N // 2):
                        n0, n1 = g * N + 2 * mm, g * N + 2 * mm + 1
                        wlo = int(W[i, n0]) if n0 < n_out else 0
                        whi = int(W[i, n1]) if n1 < n_out else 0
                        hip = whi - (1 if wlo < 0 else 0)
                        field = (wlo & ((1 << wb) - 1)) | ((hip & ((1 << (wb + 1)) - 1)) << wb)
                        word |= field << (self.fw * mm)
                    words.append(word)
                for j in range(N):
                    n = g * N + j
                    biases.append(int(B[n]) if n < n_out else 0)
        self.rom_words, self.bias_words = words, biases
        self.n_biases = len(biases)
        self.rom_w = self.fw * (N // 2)
        if self.ecc:  # the stored words: each twice, with its parity bit
            self.rom_words = pair_image(words, self.rom_w)
            mask = (1 << self.bias_bits) - 1
            self.bias_words = pair_image([b & mask for b in biases], self.bias_bits)
        self.macs_cycles = len(words)

    # ------------------------------------------------------------------ hardware
    def elaborate(self, platform):
        m = Module()
        tmr = Tripler(m).triple if self.tmr else (lambda *signals: None)
        P, L, N, nl, k = self.P, self.L, self.N, self.nl, self.k
        NPAIR = N // 2
        sizes, groups = self.sizes, self.groups
        wb = self.wbits

        # ---------------- memories
        K, M, D, pack, WPP = self.K, self.M, self.D, self.pack, self.WPP
        parity = self.ecc and self.history_check == "parity"
        secded = self.ecc and not parity
        hist_w = K * pack + (check_bits(K * pack) if secded else pack if parity else 0)
        hist = Memory(shape=unsigned(hist_w), depth=P * WPP, init=[])
        m.submodules.hist = hist
        h_wp, h_rp = hist.write_port(), hist.read_port()
        if pack == 1:
            dbuf = Memory(shape=signed(D), depth=L, init=[])
            m.submodules.dbuf = dbuf
            d_wp, d_rp = dbuf.write_port(), dbuf.read_port()
        else:
            # d-buffer indexed by history slot: word = slot // 3, field = slot % 3 (D bits each);
            # asynchronous read + registered field select (same timing as a synchronous read)
            dbuf = Memory(shape=unsigned(D * pack), depth=WPP, init=[])
            m.submodules.dbuf = dbuf
            d_wp, d_rp = dbuf.write_port(), dbuf.read_port(domain="comb")
        rom = Memory(
            shape=unsigned(self.rom_w + self.ecc),
            depth=len(self.rom_words),
            init=self.rom_words,
            attrs=BLOCK_RAM,
        )
        m.submodules.wrom = rom
        r_rp = rom.read_port()
        brom = Memory(
            shape=unsigned(self.bias_bits + 1) if self.ecc else signed(self.bias_bits),
            depth=len(self.bias_words),
            init=self.bias_words,
            attrs=BLOCK_RAM,
        )
        m.submodules.brom = brom
        b_rp = brom.read_port()
        if self.ecc:  # the copies, through the second ports
            rc_rp, bc_rp = rom.read_port(), brom.read_port()
        # pixel mask: 1 bit per pixel, writable; read when a pixel's beat is accepted
        pmask = Memory(shape=unsigned(1), depth=P, init=self.mask_init)
        m.submodules.pixel_mask = pmask
        mk_wp, mk_rp = pmask.write_port(), pmask.read_port()
        m.d.comb += [
            mk_wp.addr.eq(self.mask_addr),
            mk_wp.data.eq(self.mask_data),
            mk_wp.en.eq(self.mask_we),
        ]
        act_depth = max([groups[li] * N for li in range(nl - 1)] + [1])
        n_act = min(2, nl - 1)
        acts, a_wps, a_rps = [], [], []
        for a in range(n_act):
            mem = Memory(shape=unsigned(8), depth=act_depth, init=[])
            m.submodules[f"act{a}"] = mem
            acts.append(mem)
            a_wps.append(mem.write_port())
            a_rps.append(mem.read_port())

        # ---------------- error correction of the ROMs' and the history's read data (``ecc``)
        h_data, w_data, b_data = h_rp.data, r_rp.data, b_rp.data
        h_status = w_status = b_status = None
        h_fix = C(0, K * pack)  # the history bits to flip, with the word (stage 2)
        h_parity = C(0, pack)  # the parity bits read with the word (``parity``)
        if self.ecc:
            w_status = m.submodules.wrom_ecc = PairReader(self.rom_w)
            b_status = m.submodules.brom_ecc = PairReader(self.bias_bits)
            m.d.comb += [
                w_status.first.eq(r_rp.data),
                w_status.copy.eq(rc_rp.data),
                b_status.first.eq(b_rp.data),
                b_status.copy.eq(bc_rp.data),
            ]
            h_data, w_data = h_rp.data[: K * pack], w_status.data
            b_data = b_status.data.as_signed()
        if parity:  # a sample whose parity fails: the word's beat flagged, nothing corrected
            h_parity = h_rp.data[K * pack :]
            h_status = _Flags(
                C(0, 1),
                Cat(
                    *(Cat(h_data[K * j : K * (j + 1)], h_parity[j]).xor() for j in range(pack))
                ).any(),
            )
        if secded:
            h_status = m.submodules.hist_ecc = Decoder(K * pack)
            m.d.comb += h_status.word.eq(h_rp.data)
            # the history's correction: a table in block RAM addressed by the syndrome, read
            # beside the word's register; a clean word (syndrome 0) never reads the table
            fix_rom = Memory(
                shape=unsigned(K * pack),
                depth=1 << h_status.r,
                init=correction_masks(K * pack),
                attrs=BLOCK_RAM,
            )
            m.submodules.hist_fix = fix_rom
            fix_rp = fix_rom.read_port()
            dirty = Signal()
            m.d.comb += fix_rp.addr.eq(h_status.syndrome)
            m.d.sync += dirty.eq(h_status.syndrome.any())
            h_fix = fix_rp.data & dirty.replicate(K * pack)

        # ---------------- frame / pixel bookkeeping
        p_cnt = Signal(range(P))
        base_cnt = Signal(range(P * WPP))
        t_slot = Signal(range(L))
        t_word = Signal(range(WPP))  # pack > 1: t_slot // pack, t_slot % pack
        t_fld = Signal(range(pack))
        nfr = Signal(range(L))  # completed frames, saturating at L-1
        cur_p = Signal(range(P))
        cur_base = Signal(range(P * WPP))
        cur_first = Signal()
        cur_last = Signal()
        # a pixel's first history word: with 2**n words per pixel (12-bit samples), the pixel
        # number shifted, no register; else counted beside it
        shifted = pack > 1 and WPP & (WPP - 1) == 0
        if shifted:
            m.d.comb += [base_cnt.eq(p_cnt * WPP), cur_base.eq(cur_p * WPP)]
        s_new = Signal(K)
        s_in = Signal(K)  # the accepted value's sample: min(raw >> shift, M)
        m.d.comb += s_in.eq(
            Mux(
                self.s_tdata[self.shift + K :].any(),
                M,
                self.s_tdata[self.shift : self.shift + K],
            )
        )
        cnt = Signal(range(P + 1))
        score = Signal(signed(self.score_bits))
        wv = Signal()

        # ---------------- history read / baseline
        rd_slot = Signal(range(L))
        rcnt = Signal(range(L + 1))
        hv1 = Signal()
        hidx1 = Signal(range(L))
        NR = L if pack == 1 else WPP  # reads per pixel
        hv2, hv3 = Signal(name="hv2"), Signal(name="hv3")
        hidx2, hidx3 = Signal.like(hidx1, name="hidx2"), Signal.like(hidx1, name="hidx3")
        hv4, hidx4 = Signal(name="hv4"), Signal.like(hidx1, name="hidx4")  # pack > 1 only
        sum_bits = _bits_signed(-L * M, L * M)
        total = Signal(signed(sum_bits))
        QB = K + 1  # u = sum + M*L in [0, 2*M*L] -> quotient <= 2M < 2^(K+1)
        rem = Signal(range(2 * M * L + 1))
        dv = Signal(range(L << QB))
        quo = Signal(QB)
        dcnt = Signal(range(QB))
        bval = Signal(signed(K + 2))
        rdiff = Signal(signed(len(rem) + 1))  # rem - dv, sign bit = (rem < dv)
        m.d.comb += rdiff.eq(rem - dv)

        # ---------------- MAC sequencer
        layer = Signal(range(max(nl, 2)))
        i_cnt = Signal(range(max(sizes[:-1])))
        g_cnt = Signal(range(max(groups) + 1))
        wa = Signal(range(len(self.rom_words)))
        last_i = Signal.like(i_cnt)
        last_g = Signal.like(g_cnt)
        with m.Switch(layer):
            for li in range(nl):
                with m.Case(li):
                    m.d.comb += [last_i.eq(sizes[li] - 1), last_g.eq(groups[li] - 1)]

        # MAC pipeline flags
        v1, v2, v3, v4 = (Signal(name=f"v{j}") for j in range(1, 5))
        first1, first2, first3 = (Signal(name=f"first{j}") for j in range(1, 4))
        last1, last2, last3, last4 = (Signal(name=f"last{j}") for j in range(1, 5))
        lay1, lay2, lay3, lay4 = (Signal.like(layer, name=f"lay{j}") for j in range(1, 5))
        gw = Signal.like(g_cnt).shape()
        g1, g2, g3, g4 = (Signal(gw, name=f"grp{j}") for j in range(1, 5))
        A_r = [Signal(signed(25), name=f"A_r{mm}") for mm in range(NPAIR)]
        B_r = Signal(signed(9))
        M_r = [Signal(signed(34), name=f"M_r{mm}") for mm in range(NPAIR)]
        P_r = [Signal(signed(self.acc_bits), name=f"P_r{mm}") for mm in range(NPAIR)]

        # post-processor
        pp_active = Signal()
        pp_j = Signal(range(N))
        pp_S = [Signal(signed(self.acc_bits), name=f"pp_S{mm}") for mm in range(NPAIR)]
        pp_lay = Signal.like(layer)
        pp_nbase = Signal(range(act_depth + N + 1))
        bc = Signal(range(len(self.bias_words) + 1))
        va, vb = Signal(name="va"), Signal(name="vb")
        va2 = Signal()
        val_a = Signal(signed(k + 1))
        n_a, n_b = Signal.like(pp_nbase, name="n_a"), Signal.like(pp_nbase, name="n_b")
        lay_a, lay_b = Signal.like(layer, name="lay_a"), Signal.like(layer, name="lay_b")
        acc_b = Signal(signed(self.post_bits))

        # the peak input: stage flags (input L; the window's last input), its quotient, and
        # whether it is ready for this pixel; ``hold`` stalls input L of group 0 until it is
        pk1, pk2, gl1, gl2 = (Signal(name=n) for n in ("peak1", "peak2", "wlast1", "wlast2"))
        peak_in = Signal(signed(9))
        pk_ok = Signal()
        hold = Signal()
        if self.peak:
            m.d.comb += hold.eq((layer == 0) & (i_cnt == L) & ~pk_ok)
            tmr(pk_ok)
        busy = Signal()
        tmr(p_cnt, t_word, t_fld, nfr, cur_p, cur_first, cur_last)
        if pack == 1:  # (12-bit samples: the slot is t_word, t_fld; t_slot is not kept)
            tmr(t_slot)
        if not shifted:
            tmr(base_cnt, cur_base)
        if pack == 1:
            tmr(rd_slot)
        else:  # the words read in order: the slot read is the count of reads
            m.d.comb += rd_slot.eq(rcnt)
        tmr(cnt, wv, rcnt, dcnt, layer, i_cnt, g_cnt, wa, pp_active, pp_j, pp_lay)
        tmr(pp_nbase, bc, busy)
        vc = Signal()
        gate_busy = Signal()
        m.d.sync += busy.eq(
            v1 | v2 | v3 | v4 | pp_active | va | va2 | vb | vc | gate_busy
        )  # registered: 1 cycle late, safe in DRAIN

        # registered history write (one cycle after the input beat is accepted)
        hw_addr = Signal(range(P * WPP))
        hw_data = Signal(K * pack)
        hw_parity = Signal(pack if parity else 0)  # the word's parity bits (``parity``)
        hw_en = Signal()
        tmr(hw_en)
        if shifted:  # the pixel's and the slot's, held while the pixel is processed
            m.d.comb += hw_addr.eq(Cat(t_word, cur_p))
        else:
            tmr(hw_addr)
        # defaults
        m.d.sync += [hv1.eq(0), v1.eq(0), hw_en.eq(0)]

        # ---------------- control FSM
        p_in = Signal.like(p_cnt)
        base_in = Signal.like(base_cnt)
        m.d.comb += [
            p_in.eq(Mux(self.s_tuser, 0, p_cnt)),
            base_in.eq(Mux(self.s_tuser, 0, base_cnt)),
            h_wp.addr.eq(hw_addr),
            h_wp.data.eq(encoder(hw_data, K * pack) if secded else Cat(hw_data, hw_parity)),
            h_wp.en.eq(hw_en),
            h_rp.addr.eq(cur_base + rd_slot),
            mk_rp.addr.eq(p_in),
            mk_rp.en.eq(0),  # held, except when a beat is accepted (IDLE)
            r_rp.addr.eq(wa),
        ]
        if self.ecc:
            m.d.comb += rc_rp.addr.eq(wa + self.macs_cycles)
        # pack > 1: d-buffer read position (word, field) in slot order, starting at the oldest
        # slot (t+1) mod L; restarts for every group of layer 0
        dw, df, dw0, df0 = (
            Signal(range(WPP), name="dw"),
            Signal(range(pack), name="df"),
            Signal(range(WPP), name="dw0"),
            Signal(range(pack), name="df0"),
        )
        tmr(dw, df, dw0, df0)
        if pack == 1:
            m.d.comb += d_rp.addr.eq(i_cnt)
        else:
            m.d.comb += d_rp.addr.eq(dw)
        for a in range(n_act):
            m.d.comb += a_rps[a].addr.eq(i_cnt)

        trig = Signal()
        gate_peak = Signal(signed(self.gate_peak_bits))
        gate_centre = Signal(range(L))
        gate_spread = Signal(self.gate_spread_bits)
        gate_hit = Signal()
        gate_low = Signal()  # the code above ``gate_low_threshold``
        cnt_new = Signal.like(cnt)
        m.d.comb += [
            trig.eq(wv & ~mk_rp.data & (score > self.threshold)),
            cnt_new.eq(Mux(cur_first, 0, cnt) + trig),
            self.m_score.eq(score),
            self.m_trig.eq(trig),
            self.m_window_valid.eq(wv),
            self.m_tlast.eq(cur_last),
            self.m_tuser.eq(cur_first),
            self.m_count.eq(cnt_new),
            self.m_frame_trig.eq(cnt_new != 0),
            self.m_gate_peak.eq(Mux(wv, gate_peak, 0)),
            self.m_gate_centre.eq(Mux(wv, gate_centre, 0)),
            self.m_gate_spread.eq(Mux(wv, gate_spread, 0)),
            self.m_gate_trig.eq(wv & ~mk_rp.data & gate_hit),
            self.m_gate_low.eq(wv & ~mk_rp.data & gate_low),
        ]

        state = Signal(range(len(STATES)), name="ctrl_state")  # IDLE (0) after reset
        tmr(state)
        with m.Switch(state):
            with m.Case(STATES["IDLE"]):
                m.d.comb += [self.s_tready.eq(1), mk_rp.en.eq(self.s_tvalid)]
                with m.If(self.s_tvalid):
                    if pack == 1:
                        # direct write of the new sample; the read pass (next cycles) sees it
                        m.d.sync += [
                            hw_en.eq(1),
                            hw_addr.eq(base_in + t_slot),
                            hw_data.eq(s_in),
                            hw_parity.eq(s_in.xor() if parity else 0),
                        ]
                    if not shifted:
                        m.d.sync += cur_base.eq(base_in)
                    m.d.sync += [
                        cur_p.eq(p_in),
                        s_new.eq(s_in),
                        cur_first.eq(p_in == 0),
                        cur_last.eq(p_in == P - 1),
                        total.eq(0),
                        rcnt.eq(0),
                    ]
                    if pack == 1:
                        m.d.sync += rd_slot.eq(Mux(t_slot == L - 1, 0, t_slot + 1))
                        with m.If(nfr == L - 1):
                            m.d.sync += state.eq(STATES["HIST"])
                        with m.Else():
                            m.d.sync += [score.eq(0), wv.eq(0)]
                            m.d.sync += state.eq(STATES["OUT"])
                    else:
                        # the read pass is needed in every frame (read-modify-write of the new slot)
                        m.d.sync += state.eq(STATES["HIST"])
            with m.Case(STATES["HIST"]):
                with m.If(rcnt != NR):
                    if pack == 1:
                        m.d.sync += rd_slot.eq(Mux(rd_slot == L - 1, 0, rd_slot + 1))
                    m.d.sync += [
                        rcnt.eq(rcnt + 1),
                        hv1.eq(1),
                        hidx1.eq(rcnt),
                    ]
                if pack == 1:
                    with m.If(hv3 & (hidx3 == L - 1)):
                        m.d.sync += state.eq(STATES["DIV0"])
                else:
                    with m.If(hv4 & (hidx4 == NR - 1)):
                        with m.If(nfr == L - 1):
                            m.d.sync += state.eq(STATES["DIV0"])
                        with m.Else():
                            m.d.sync += [score.eq(0), wv.eq(0)]
                            m.d.sync += state.eq(STATES["OUT"])
            with m.Case(STATES["DIV0"]):
                m.d.sync += [rem.eq(total + M * L), dv.eq(L << (QB - 1)), quo.eq(0), dcnt.eq(0)]
                m.d.sync += state.eq(STATES["DIV"])
            with m.Case(STATES["DIV"]):
                with m.If(~rdiff[-1]):
                    m.d.sync += [rem.eq(rdiff), quo.eq(Cat(C(1, 1), quo))]
                with m.Else():
                    m.d.sync += quo.eq(Cat(C(0, 1), quo))
                m.d.sync += [dv.eq(dv >> 1), dcnt.eq(dcnt + 1)]
                with m.If(dcnt == QB - 1):
                    m.d.sync += state.eq(STATES["DIVEND"])
            with m.Case(STATES["DIVEND"]):
                m.d.sync += [
                    bval.eq(quo - M),
                    layer.eq(0),
                    i_cnt.eq(0),
                    g_cnt.eq(0),
                    wa.eq(0),
                    bc.eq(0),
                ]
                if self.peak:
                    m.d.sync += pk_ok.eq(0)
                if pack > 1:
                    st_w = Mux(t_fld == pack - 1, Mux(t_word == WPP - 1, 0, t_word + 1), t_word)
                    st_f = Mux(t_fld == pack - 1, 0, t_fld + 1)
                    m.d.sync += [dw.eq(st_w), df.eq(st_f), dw0.eq(st_w), df0.eq(st_f)]
                m.d.sync += state.eq(STATES["MAC"])
            with m.Case(STATES["MAC"]), m.If(~hold) if self.peak else nullcontext():
                if self.peak:
                    m.d.sync += [pk1.eq((layer == 0) & (i_cnt == L)), gl1.eq(i_cnt == L - 1)]
                m.d.sync += [
                    v1.eq(1),
                    first1.eq(i_cnt == 0),
                    last1.eq(i_cnt == last_i),
                    lay1.eq(layer),
                    g1.eq(g_cnt),
                    wa.eq(wa + 1),
                ]
                if pack > 1:
                    with m.If(i_cnt == last_i):
                        m.d.sync += [dw.eq(dw0), df.eq(df0)]
                    with m.Elif(df == pack - 1):
                        m.d.sync += [df.eq(0), dw.eq(Mux(dw == WPP - 1, 0, dw + 1))]
                    with m.Else():
                        m.d.sync += df.eq(df + 1)
                with m.If(i_cnt == last_i):
                    m.d.sync += i_cnt.eq(0)
                    with m.If(g_cnt == last_g):
                        m.d.sync += g_cnt.eq(0)
                        m.d.sync += state.eq(STATES["DRAIN"])
                    with m.Else():
                        m.d.sync += g_cnt.eq(g_cnt + 1)
                with m.Else():
                    m.d.sync += i_cnt.eq(i_cnt + 1)
            with m.Case(STATES["DRAIN"]):
                with m.If(~busy):
                    with m.If(layer == nl - 1):
                        m.d.sync += wv.eq(1)
                        m.d.sync += state.eq(STATES["OUT"])
                    with m.Else():
                        m.d.sync += layer.eq(layer + 1)
                        m.d.sync += state.eq(STATES["MAC"])
            with m.Case(STATES["OUT"]):
                m.d.comb += self.m_tvalid.eq(1)
                with m.If(self.m_tready):
                    m.d.sync += cnt.eq(cnt_new)
                    with m.If(cur_last):
                        m.d.sync += p_cnt.eq(0)
                        if not shifted:
                            m.d.sync += base_cnt.eq(0)
                        m.d.sync += nfr.eq(Mux(nfr == L - 1, nfr, nfr + 1))
                        if pack == 1:
                            m.d.sync += t_slot.eq(Mux(t_slot == L - 1, 0, t_slot + 1))
                        else:
                            with m.If(t_fld == pack - 1):
                                m.d.sync += [
                                    t_fld.eq(0),
                                    t_word.eq(Mux(t_word == WPP - 1, 0, t_word + 1)),
                                ]
                            with m.Else():
                                m.d.sync += t_fld.eq(t_fld + 1)
                    with m.Else():
                        m.d.sync += p_cnt.eq(cur_p + 1)
                        if not shifted:
                            m.d.sync += base_cnt.eq(cur_base + WPP)
                    m.d.sync += state.eq(STATES["IDLE"])

        # ---------------- history data -> d_i, sum
        # 3 stages: register BRAM (cascade-mux) output, subtract, then store/accumulate
        if pack == 1:
            hdat, hraw = Signal(K), Signal(K)
            d_new = Signal(signed(D))
            d_r = Signal(signed(D))
            m.d.sync += [
                hv2.eq(hv1),
                hidx2.eq(hidx1),
                hraw.eq(h_data),
                hv3.eq(hv2),
                hidx3.eq(hidx2),
                d_r.eq(d_new),
            ]
            # exact: K-bit unsigned minus K-bit unsigned
            m.d.comb += [hdat.eq(hraw ^ h_fix), d_new.eq(hdat - s_new)]
            with m.If(hv3):
                m.d.comb += [d_wp.addr.eq(hidx3), d_wp.data.eq(d_r), d_wp.en.eq(1)]
                m.d.sync += total.eq(total + d_r)
        else:
            # word w holds slots 3w..3w+2.  Stage 2: register the BRAM word; stage 3: the pack
            # differences (the slot being overwritten, t mod L, still holds frame t-L: its d is
            # forced to 0 = s_new - s_new), and the read-modify-write of that word with s_new;
            # stage 4: d-buffer write + sum of the pack d's; stage 5: accumulate.
            hdat, hraw = Signal(K * pack), Signal(K * pack)
            hpar = Signal(pack)  # the word's parity bits (``parity``)
            d_new = [Signal(signed(D), name=f"d_new{j}") for j in range(pack)]
            d_r = [Signal(signed(D), name=f"d_r{j}") for j in range(pack)]
            d3 = Signal(signed(D + 2))
            m.d.sync += [
                hv2.eq(hv1),
                hidx2.eq(hidx1),
                hraw.eq(h_data),
                hpar.eq(h_parity),
                hv3.eq(hv2),
                hidx3.eq(hidx2),
                hv4.eq(hv3),
                hidx4.eq(hidx3),
            ]
            is_tw = Signal()
            m.d.comb += [hdat.eq(hraw ^ h_fix), is_tw.eq(hidx2 == t_word)]
            new_word = []
            for j in range(pack):
                fj = hdat[K * j : K * (j + 1)]
                m.d.comb += d_new[j].eq(Mux(is_tw & (t_fld == j), 0, fj - s_new))
                m.d.sync += d_r[j].eq(d_new[j])
                new_word.append(Mux(t_fld == j, s_new, fj))
            with m.If(hv2 & is_tw):
                m.d.sync += [hw_en.eq(1), hw_data.eq(Cat(*new_word))]
                if parity:  # the new sample's; the others' as read (a failing one stays so)
                    m.d.sync += hw_parity.eq(
                        Cat(*(Mux(t_fld == j, s_new.xor(), hpar[j]) for j in range(pack)))
                    )
                if not shifted:
                    m.d.sync += hw_addr.eq(cur_base + t_word)
            with m.If(hv3):
                m.d.comb += [d_wp.addr.eq(hidx3), d_wp.data.eq(Cat(*d_r)), d_wp.en.eq(1)]
            m.d.sync += d3.eq(sum(d_r[1:], d_r[0]))
            with m.If(hv4):
                m.d.sync += total.eq(total + d3)

        # ---------------- MAC pipeline
        # s1: operands
        diff = Signal(signed(K + 3))
        q = Signal(signed(9))
        if pack == 1:
            m.d.comb += diff.eq(d_rp.data - bval)
        else:
            dsel = Signal(signed(D))
            with m.Switch(df):
                for j in range(pack):
                    with m.Case(j):
                        m.d.sync += dsel.eq(d_rp.data[D * j : D * (j + 1)].as_signed())
            m.d.comb += diff.eq(dsel - bval)
        with m.If(diff > 127):
            m.d.comb += q.eq(127)
        with m.Elif(diff < -128):
            m.d.comb += q.eq(-128)
        with m.Else():
            m.d.comb += q.eq(diff)
        narrow = self.input_bits < 8
        x_in = q  # the network's input: the 8-bit code, or it clipped to ``input_bits``
        if narrow:
            x_lo, x_hi = self.input_range
            x_in = Signal(signed(self.input_bits), name="x_in")
            m.d.comb += x_in.eq(Mux(q > x_hi, x_hi, Mux(q < x_lo, x_lo, q)))
        act_x = Signal(8)
        if n_act == 1:
            m.d.comb += act_x.eq(a_rps[0].data)
        elif n_act == 2:
            # layer l >= 1 reads buffer (l-1) % 2
            m.d.comb += act_x.eq(Mux(lay1[0], a_rps[0].data, a_rps[1].data))
        m.d.sync += [
            v2.eq(v1),
            first2.eq(first1),
            last2.eq(last1),
            lay2.eq(lay1),
            g2.eq(g1),
            B_r.eq(Mux(lay1 == 0, Mux(pk1, peak_in, x_in) if self.peak else x_in, act_x)),
        ]
        G_r = B_r  # the gate's input: the 8-bit code (B_r itself when the network takes it)
        if narrow:
            G_r = Signal(signed(9), name="G_r")
            m.d.sync += G_r.eq(q)
        if self.peak:
            m.d.sync += [pk2.eq(pk1), gl2.eq(gl1)]
        for mm in range(NPAIR):
            fld = w_data[self.fw * mm : self.fw * (mm + 1)]
            lo, hip = fld[:wb], fld[wb:]
            m.d.sync += A_r[mm].eq(Cat(lo, lo[wb - 1].replicate(k - wb), hip).as_signed())
        # s2: multiply
        m.d.sync += [v3.eq(v2), first3.eq(first2), last3.eq(last2), lay3.eq(lay2), g3.eq(g2)]
        for mm in range(NPAIR):
            m.d.sync += M_r[mm].eq(A_r[mm] * B_r)
        # s3: accumulate
        m.d.sync += [v4.eq(v3), last4.eq(last3), lay4.eq(lay3), g4.eq(g3)]
        for mm in range(NPAIR):
            accumulate = P_r[mm].eq(Mux(first3, 0, P_r[mm]) + M_r[mm])
            if self.peak:  # the held peak input leaves bubbles: keep the sums through them
                with m.If(v3):
                    m.d.sync += accumulate
            else:
                m.d.sync += accumulate

        # ---------------- peak gate (``detection.peak_gate``) on layer 0's inputs, group 0 pass
        SF = GATE_SUM_FRAMES
        gate_in = Signal()
        pass0 = v2 & (lay2 == 0) & (g2 == 0)  # group 0's pass over layer 0's inputs
        m.d.comb += gate_in.eq(pass0 & ~pk2 if self.peak else pass0)
        g_i = Signal(range(L + 1))
        tmr(g_i)
        i_now = Signal(range(L + 1))
        m.d.comb += i_now.eq(Mux(first2, 0, g_i))
        g_sh = [Signal(signed(9), name=f"gate_sh{j}") for j in range(SF - 1)]  # newest first
        s_sum = Signal(signed(self.gate_peak_bits))
        m.d.comb += s_sum.eq(sum(g_sh[1:], G_r + g_sh[0]))
        g_total = Signal(signed(_bits_signed(-128 * L, 127 * L)))
        g_sq = Signal(range(128 * 128 * L + 1))
        q_sq = Signal(range(128 * 128 + 1))
        m.d.comb += q_sq.eq(G_r * G_r)
        g_best = Signal(signed(self.gate_peak_bits))
        g_bestc = Signal(range(L))
        with m.If(gate_in):
            m.d.sync += [
                g_i.eq(i_now + 1),
                g_sh[0].eq(G_r),
                *(g_sh[j].eq(g_sh[j - 1]) for j in range(1, SF - 1)),
                g_total.eq(Mux(first2, 0, g_total) + G_r),
                g_sq.eq(Mux(first2, 0, g_sq) + q_sq),
            ]
            # the first of the largest sums: replaced only by a strictly larger one
            with m.If((i_now >= SF - 1) & ((i_now == SF - 1) | (s_sum > g_best))):
                m.d.sync += [g_best.eq(s_sum), g_bestc.eq(i_now - SF // 2)]
        net_best = g_best  # S of the network's inputs, for the peak input
        net_range = (-128 * SF, 127 * SF)
        if narrow and self.peak:  # the network's codes differ from the gate's: their own S
            x_lo, x_hi = self.input_range
            n_sh = [Signal(signed(self.input_bits), name=f"net_sh{j}") for j in range(SF - 1)]
            n_sum = Signal(signed(_bits_signed(x_lo * SF, x_hi * SF)))
            net_best = Signal.like(n_sum, name="net_best")
            net_range = (x_lo * SF, x_hi * SF)
            m.d.comb += n_sum.eq(sum(n_sh[1:], B_r + n_sh[0]))
            with m.If(gate_in):
                m.d.sync += [
                    n_sh[0].eq(B_r),
                    *(n_sh[j].eq(n_sh[j - 1]) for j in range(1, SF - 1)),
                ]
                with m.If((i_now >= SF - 1) & ((i_now == SF - 1) | (n_sum > net_best))):
                    m.d.sync += net_best.eq(n_sum)
        # after the pass: code > K  <=>  2**F·L²·S² >= 25·(V + L²)·(K + 1), no division, for
        # K = ``gate_threshold`` and, beside it, K = ``gate_low_threshold``. Every product runs
        # on one shift-add multiplier, one after the other (a pixel leaves hundreds of clocks;
        # the DSPs stay with the MAC lanes). Operands come from registers through one
        # multiplexer in a load cycle, and the "running" flag is registered, so the logic
        # between registers stays shallow.
        SQ = L * L
        den_max = SF * SF * (128 * 128 * SQ + SQ)
        mul_w = ((1 << GATE_THRESHOLD_BITS) * den_max).bit_length()
        mul_x = Signal(mul_w)
        mul_y = Signal(max(GATE_THRESHOLD_BITS + 1, (SQ << self.gate_fraction_bits).bit_length()))
        mul_acc = Signal(mul_w)
        mul_run = Signal()
        g_step = Signal(range(9))  # 0 idle; k: product k (below) loading or running
        g_load = Signal()
        g_end = Signal()
        tmr(mul_run, g_step, g_load, g_end)
        m.d.sync += g_end.eq(gate_in & (gl2 if self.peak else last2))
        if self.peak:  # S is final one clock after its last sum: ⌊S/5⌋, floor also below 0,
            # as adders (a division's comparison chain was the core's longest path)
            with m.If(g_end):
                m.d.sync += [peak_in.eq(floor_divide(net_best, *net_range, SF)), pk_ok.eq(1)]
        m.d.comb += gate_busy.eq(g_end | (g_step != 0))
        pos_best = Signal(range(128 * SF + 1))  # max(S, 0): S² = 0 when S <= 0 (no trigger)
        abs_total = Signal(range(128 * L + 1))
        sq_peak = Signal(range((128 * SF) ** 2 + 1))
        sq_total = Signal(range((128 * L) ** 2 + 1))
        lhs = Signal(range((128 * SF) ** 2 * (SQ << self.gate_fraction_bits) + 1))
        spread_sq = Signal(range(128 * 128 * SQ + SQ + 1))  # V + L²
        k_next = Signal(GATE_THRESHOLD_BITS + 1)  # K + 1
        k_low_next = Signal(GATE_THRESHOLD_BITS + 1)  # K_low + 1
        above = Signal()  # the left side >= the right side at K (step 6), until step 8
        m.d.sync += [
            spread_sq.eq(gate_spread + SQ),
            k_next.eq(self.gate_threshold + 1),
            k_low_next.eq(self.gate_low_threshold + 1),
        ]
        op_x, op_y = Signal.like(mul_x), Signal.like(mul_y)
        operands = {
            1: (pos_best, pos_best),  # S²
            2: (abs_total, abs_total),  # (Σq)²
            3: (g_sq, L),  # L·Σq²; V = that − (Σq)²
            4: (sq_peak, SQ << self.gate_fraction_bits),  # the left side
            5: (spread_sq, k_next),  # (V + L²)·(K + 1)
            6: (mul_acc, SF * SF),  # ·25: the right side
            7: (spread_sq, k_low_next),  # (V + L²)·(K_low + 1)
            8: (mul_acc, SF * SF),  # ·25: the right side at K_low
        }
        with m.Switch(g_step):
            for step, (x, y) in operands.items():
                with m.Case(step):
                    m.d.comb += [op_x.eq(x), op_y.eq(y)]
        with m.If(g_load):
            m.d.sync += [
                mul_x.eq(op_x),
                mul_y.eq(op_y),
                mul_acc.eq(0),
                mul_run.eq(1),
                g_load.eq(0),
            ]
        with m.Elif(mul_run):
            with m.If(mul_y[0]):
                m.d.sync += mul_acc.eq(mul_acc + mul_x)
            m.d.sync += [
                mul_x.eq(mul_x << 1),
                mul_y.eq(mul_y >> 1),
                mul_run.eq(mul_y[1:] != 0),
            ]
        finished = (g_step != 0) & ~g_load & ~mul_run
        with m.If(g_end):
            m.d.sync += [
                pos_best.eq(Mux(g_best > 0, g_best, 0)),
                abs_total.eq(Mux(g_total < 0, -g_total, g_total)),
                g_step.eq(1),
                g_load.eq(1),
            ]
        with m.Elif(finished):
            with m.Switch(g_step):
                with m.Case(1):
                    m.d.sync += sq_peak.eq(mul_acc)
                with m.Case(2):
                    m.d.sync += sq_total.eq(mul_acc)
                with m.Case(3):
                    m.d.sync += gate_spread.eq(mul_acc - sq_total)
                with m.Case(4):
                    m.d.sync += lhs.eq(mul_acc)
                with m.Case(6):
                    m.d.sync += above.eq(lhs >= mul_acc)
                with m.Case(8):  # both bits of the pixel-frame at once
                    inside = (g_best > 0) & (g_bestc >= self.gate[0]) & (g_bestc <= self.gate[1])
                    m.d.sync += [
                        gate_peak.eq(g_best),
                        gate_centre.eq(g_bestc),
                        gate_hit.eq(inside & above),
                        gate_low.eq(inside & (lhs >= mul_acc)),
                    ]
            m.d.sync += [g_step.eq(Mux(g_step == 8, 0, g_step + 1)), g_load.eq(g_step != 8)]

        # ---------------- serial post-processor
        S0 = pp_S[0]
        lo_v = S0[:k].as_signed()
        hi_v = S0[k:].as_signed() + S0[k - 1]
        m.d.comb += b_rp.addr.eq(bc)
        if self.ecc:
            m.d.comb += bc_rp.addr.eq(bc + self.n_biases)
        m.d.sync += [va.eq(0)]
        with m.If(pp_active):
            m.d.sync += [
                va.eq(1),
                val_a.eq(Mux(pp_j[0], hi_v, lo_v)),
                n_a.eq(pp_nbase + pp_j),
                lay_a.eq(pp_lay),
                bc.eq(bc + 1),
                pp_j.eq(pp_j + 1),
            ]
            with m.If(pp_j[0]):
                for mm in range(NPAIR - 1):
                    m.d.sync += pp_S[mm].eq(pp_S[mm + 1])
            with m.If(pp_j == N - 1):
                m.d.sync += pp_active.eq(0)
        with m.If(v4 & last4):  # launch (overrides the above if simultaneous)
            m.d.sync += [pp_active.eq(1), pp_j.eq(0), pp_lay.eq(lay4), pp_nbase.eq(g4 * N)]
            for mm in range(NPAIR):
                m.d.sync += pp_S[mm].eq(P_r[mm])
        # stage a2: register the bias ROM output once more (keeps the ROM-as-logic path short)
        val_a2 = Signal.like(val_a)
        n_a2, lay_a2 = Signal.like(n_a, name="n_a2"), Signal.like(lay_a, name="lay_a2")
        bias_r = Signal(signed(self.bias_bits))
        m.d.sync += [
            va2.eq(va),
            val_a2.eq(val_a),
            n_a2.eq(n_a),
            lay_a2.eq(lay_a),
            bias_r.eq(b_data),
        ]
        # stage b: + bias
        m.d.sync += [vb.eq(va2), n_b.eq(n_a2), lay_b.eq(lay_a2), acc_b.eq(val_a2 + bias_r)]
        # stage c1: ReLU + round-half-even add (registered); final layer: score <= acc
        # stage c2: >> shift, clip to 255, write the activation buffer
        pos = Signal(self.post_bits)
        m.d.comb += pos.eq(Mux(acc_b < 0, 0, acc_b))
        n_c, lay_c = Signal.like(n_b, name="n_c"), Signal.like(lay_b, name="lay_c")
        m.d.sync += [vc.eq(vb & (lay_b != nl - 1)), n_c.eq(n_b), lay_c.eq(lay_b)]
        ys = []
        for li in range(nl - 1):
            s = self.model["shifts"][li]
            t = Signal(self.post_bits + 1, name=f"rnd{li}")
            y = Signal(8, name=f"y{li}")
            if s <= 0:  # nothing to round: the accumulator, times 2**-s, is the activation
                m.d.sync += t.eq(pos)
            else:
                m.d.sync += t.eq(pos + ((1 << (s - 1)) - 1) + pos[s])
            if s >= 0:
                m.d.comb += y.eq(Mux(t[s + 8 :] != 0, 255, t[s : s + 8]))
            elif -s < 8:  # a left shift: clip when a set bit would pass bit 7
                m.d.comb += y.eq(Mux(t[8 + s :] != 0, 255, Cat(C(0, -s), t[: 8 + s])))
            else:  # any non-zero accumulator times 2**8 or more clips
                m.d.comb += y.eq(Mux(t != 0, 255, 0))
            ys.append(y)
        with m.If(vb & (lay_b == nl - 1) & (n_b == 0)):
            m.d.sync += score.eq(acc_b)
        for a in range(n_act):
            m.d.comb += [a_wps[a].addr.eq(n_c)]
        with m.If(vc):
            with m.Switch(lay_c):
                for li in range(nl - 1):
                    with m.Case(li):
                        wp = a_wps[li % 2]
                        m.d.comb += [wp.data.eq(ys[li]), wp.en.eq(1)]

        # ---------------- the beat's SEU flags: a read the decoders corrected or flagged
        # while the pixel was processed (qualified by the stage where each read's data is on
        # its port: history hv1, weights v1, biases va)
        seu_c, seu_d = Signal(name="seu_corrected"), Signal(name="seu_detected")
        m.d.comb += [self.m_seu_corrected.eq(seu_c), self.m_seu_detected.eq(seu_d)]
        if self.ecc:
            used = ((h_status, hv1), (w_status, v1), (b_status, va))
            corrected = Cat(*(d.corrected & v for d, v in used)).any()
            detected = Cat(*(d.detected & v for d, v in used)).any()
            with m.If(self.s_tvalid & self.s_tready):  # a new pixel: its own flags
                m.d.sync += [seu_c.eq(0), seu_d.eq(0)]
            with m.Else():
                m.d.sync += [seu_c.eq(seu_c | corrected), seu_d.eq(seu_d | detected)]
        return m
