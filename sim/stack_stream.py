"""Streams frames through the track stack's cores (``hls/stack_bumps.py``,
``hls/stack_tracks.py``) in Amaranth's simulator, a beat at a time: the one driver of their
tests and their benchmark."""

import numpy as np
from amaranth.hdl import Cat
from amaranth.sim import Simulator


def stream_frames(
    core,
    values: np.ndarray,
    data: str | tuple[str, ...],
    outputs: tuple[str, ...],
    stall_seed: int | None = None,
    held: dict[str, int] | None = None,
    writes: list[dict[str, int]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(the ``outputs`` ports, (frames, pixels, len(outputs)); clocks, (frames, pixels)) for
    ``values`` (frames, pixels) streamed through ``core`` on its port ``data`` (several ports:
    (frames, pixels, len(data)), the same beat), one output beat
    for each input beat. The input is offered as soon as the core takes it, apart from the
    output (so chained cores overlap); clocks from one accepted input beat to the next (the
    core's pace when nothing stalls). With ``stall_seed``, the input waits 0–2 clocks and the
    output is not ready half the time, at random. ``held``: ports set once, before the first
    beat (a threshold); ``writes``: ports set for one clock each, in turn, before the first
    beat (mask writes). Raises AssertionError unless ``m_tuser`` marks pixel 0."""
    names = (data,) if isinstance(data, str) else tuple(data)
    values = np.asarray(values).reshape(*np.shape(values)[:2], len(names))
    frames, pixels = values.shape[:2]
    rng = np.random.default_rng(stall_seed)
    stalls = np.random.default_rng(None if stall_seed is None else stall_seed + 1)
    taken_at, out = [], []
    sim = Simulator(core)
    sim.add_clock(1e-8)
    inputs = [getattr(core, name) for name in names]
    for index, (name, port) in enumerate(zip(names, inputs, strict=True)):
        shape = port.shape()
        low, high = (
            (-(2 ** (shape.width - 1)), 2 ** (shape.width - 1))
            if shape.signed
            else (0, 2**shape.width)
        )
        column = values[..., index]
        if column.size and (column.min() < low or column.max() >= high):
            raise ValueError(
                f"values beyond {name}'s {shape.width} bits ({column.min()}…{column.max()})"
            )
    watched = [getattr(core, name) for name in outputs] + [core.m_tuser]

    async def producer(ctx):
        for name, value in (held or {}).items():
            ctx.set(getattr(core, name), value)
        for ports in writes or []:
            for name, value in ports.items():
                ctx.set(getattr(core, name), value)
            await ctx.tick()
            for name in ports:
                ctx.set(getattr(core, name), 0)
        clock = 0
        for t in range(frames):
            for p in range(pixels):
                for _ in range(rng.integers(0, 3) if stall_seed is not None else 0):
                    await ctx.tick()
                    clock += 1
                for port, value in zip(inputs, values[t, p], strict=True):
                    ctx.set(port, int(value))
                ctx.set(core.s_tuser, int(p == 0))
                ctx.set(core.s_tvalid, 1)
                while True:
                    *_, ready = await ctx.tick().sample(core.s_tready)
                    clock += 1
                    if ready:
                        break
                taken_at.append(clock)
                ctx.set(core.s_tvalid, 0)

    async def consumer(ctx):
        while len(out) < frames * pixels:
            if stall_seed is None:  # always ready: wake at the beats only
                ctx.set(core.m_tready, 1)
                *_, beat = await ctx.tick().sample(Cat(*watched)).until(core.m_tvalid)
                out.append(beat)  # the watched ports' bits, LSB first
                continue
            ready = int(stalls.random() < 0.5)
            ctx.set(core.m_tready, ready)
            *_, valid, beat = await ctx.tick().sample(core.m_tvalid, Cat(*watched))
            if valid and ready:
                out.append(beat)

    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    widths = [len(signal) for signal in watched]
    signed = [signal.shape().signed for signal in watched]
    beats = np.array([_split(word, widths, signed) for word in out], np.int64)
    beats = beats.reshape(frames, pixels, len(watched))
    if not np.array_equal(beats[..., -1], np.tile(np.arange(pixels) == 0, (frames, 1))):
        raise AssertionError("the core's m_tuser does not mark pixel 0 of each frame")
    pace = np.diff(np.array(taken_at, np.int64), prepend=0).reshape(frames, pixels)
    return beats[..., : len(outputs)], pace


def _split(word: int, widths: list[int], signed: list[bool]) -> list[int]:
    """The fields of ``word`` (LSB first, of ``widths`` bits; ``signed`` ones sign-extended)."""
    fields = []
    for width, is_signed in zip(widths, signed, strict=True):
        value = word & ((1 << width) - 1)
        if is_signed and value >> (width - 1):
            value -= 1 << width
        fields.append(value)
        word >>= width
    return fields


def stream_bumps(core, raw: np.ndarray, stall_seed: int | None = None):
    """(x, x valid, clocks), each (frames, pixels), of the bumps core for raw counts ``raw``
    (frames, pixels): x of frame t − lag at the beat of frame t."""
    beats, pace = stream_frames(core, raw, "s_tdata", ("m_x", "m_x_valid"), stall_seed)
    return beats[..., 0], beats[..., 1], pace


def stream_tracks(core, x: np.ndarray, stall_seed: int | None = None):
    """(Z, Z valid, clocks), each (frames, pixels), of the tracks core for bumps ``x``
    (frames, pixels): Z of frame t − D at the beat of frame t."""
    beats, pace = stream_frames(core, x, "s_x", ("m_z", "m_z_valid"), stall_seed)
    return beats[..., 0], beats[..., 1], pace


def stream_trigger(
    core,
    raw: np.ndarray,
    threshold: int,
    stall_seed: int | None = None,
    excluded: np.ndarray | None = None,
):
    """(Z, Z valid, trigger, clocks), each (frames, pixels), of the track stack trigger for raw
    counts ``raw`` (frames, pixels) and ``threshold``: Z of frame t − lag at the beat of t.
    ``excluded``: (pixels,) bools written into the core's pixel mask before the first beat."""
    outputs = ("m_z", "m_z_valid", "m_trig")
    writes = [
        {"mask_we": 1, "mask_addr": pixel, "mask_data": int(bit)}
        for pixel, bit in enumerate(excluded if excluded is not None else [])
    ]
    held = {"threshold": threshold}
    beats, pace = stream_frames(core, raw, "s_tdata", outputs, stall_seed, held, writes)
    return beats[..., 0], beats[..., 1], beats[..., 2], pace
