"""The trigger core as HLS C++, for teams whose flow is Vitis (the flight L2 trigger is an HLS
design): a top level ``uvhunt_core`` that keeps every pixel's history and computes the
preprocessing around hls4ml's network, written into an hls4ml project whose reuse factors are
sized to the D3 need, and C-simulated with g++ on a stream of frames.

The top level takes one D3 frame per call (an AXI4-Stream of raw sums, pixel 0 first) and
puts out every pixel's score (the golden model's last accumulator, in score units) and
trigger bit, the frame's count of triggered pixels and whether the frame has full windows:
the same outputs as the Amaranth core, frame by frame. The pixel mask (1 = the pixel never
triggers; its score is still put out) is a static table of ``MASK_WORDS`` 32-bit words,
initialised from the mask the core is built with and replaced whole by a call with
``mask_load`` set (``mask_in``, AXI-Lite), before that call's frame. Vitis HLS synthesis
(``build_core.tcl``) needs the vendor tool; without it only the C simulation runs.
"""

import math
import subprocess
import time
from pathlib import Path

import numpy as np

from uvhunt.hls.project import FirmwareConfig, convert_project, quiet_hls4ml
from uvhunt.quant.golden import GoldenMLP
from uvhunt.quant.preprocess import MAX_RAW, PEAK_FRAMES, Preprocessing

TOP = "uvhunt_core"
HEADER_WORDS = 2
"""Stream file header: frames, pixels (int32 each)."""
MASK_WORD_BITS = 32
"""Pixels per word of the HLS core's mask (pixel p: bit p % 32 of word p // 32)."""


def reuse_factors(sizes: list[int], budget: int, backend: str = "Vitis") -> tuple[int, list[int]]:
    """(model reuse factor, each dense layer's): the largest model-wide reuse factor for
    which every layer's (hls4ml picks the closest valid one per layer) is at most ``budget``
    clocks, so the network takes a new window every ``max(layers)`` clocks."""
    import hls4ml

    fpga = hls4ml.backends.get_backend(backend)
    shapes = list(zip(sizes[:-1], sizes[1:], strict=True))
    valid = [fpga.get_valid_reuse_factors(n_in, n_out) for n_in, n_out in shapes]
    candidates = sorted({rf for rfs in valid for rf in rfs if rf <= budget}, reverse=True)
    for chosen in candidates:
        layers = [fpga.get_closest_reuse_factor(rfs, chosen) for rfs in valid]
        if max(layers) <= budget:
            return chosen, layers
    raise ValueError(f"no reuse factor gives an interval of at most {budget} clocks per pixel")


def build_core_project(
    onnx_path: Path,
    golden: GoldenMLP,
    preprocessing: Preprocessing,
    folder: Path,
    pixels: int,
    budget: int,
    part: str,
    clock_mhz: float,
    mask: np.ndarray | None = None,
) -> dict:
    """Write the hls4ml project (Resource strategy, reuse factors from ``budget`` clocks per
    pixel) with the core's top level, test bench and Vitis script into ``folder``; ``mask``
    (pixels,): the pixel mask's initial value (nonzero: never triggers; default none)."""
    model_rf, layer_rf = reuse_factors(golden.sizes, budget)
    config = FirmwareConfig(
        part=part,
        clock_period_ns=1e3 / clock_mhz,
        reuse_factor=model_rf,
        strategy="Resource",
    ).validate()
    hls_model, _ = convert_project(onnx_path, golden, folder, config)
    with quiet_hls4ml():
        hls_model.write()
    dense = [layer for layer in hls_model.get_layers() if layer.class_name == "Dense"]
    used = [int(layer.get_attr("reuse_factor")) for layer in dense]
    if used != layer_rf:
        raise ValueError(f"hls4ml chose reuse factors {used}, not the planned {layer_rf}")
    output = hls_model.get_output_variables()[0].type.precision
    if output.integer - output.width != golden.output_exponent:
        raise ValueError(
            f"the network's output type {output} does not have the score's LSB "
            f"2**{golden.output_exponent}"
        )
    names = {
        "inputs": hls_model.get_input_variables()[0].name,
        "outputs": hls_model.get_output_variables()[0].name,
    }
    interval = max(used)
    (folder / "firmware" / f"{TOP}.h").write_text(
        _header(golden, preprocessing, pixels, output.width, interval, mask_words(mask, pixels))
    )
    (folder / "firmware" / f"{TOP}.cpp").write_text(_source(names))
    (folder / f"{TOP}_test.cpp").write_text(_TESTBENCH)
    (folder / f"build_{TOP}.tcl").write_text(_tcl(part, 1e3 / clock_mhz))
    return {
        "top": TOP,
        "strategy": "Resource",
        "reuse_factors": used,
        "pixel_interval_clocks": interval,
        "score_bits": output.width,
        "files": [
            f"firmware/{TOP}.h",
            f"firmware/{TOP}.cpp",
            f"{TOP}_test.cpp",
            f"build_{TOP}.tcl",
        ],
    }


def compile_csim(folder: Path) -> tuple[Path, float]:
    """The C simulation (g++) of the project's core: (executable, seconds)."""
    folder = Path(folder).resolve()
    executable = folder / f"{TOP}_csim"
    start = time.perf_counter()
    command = [
        "g++",
        "-O2",
        "-std=c++14",
        f"-I{folder / 'firmware'}",
        f"-I{folder / 'firmware' / 'ap_types'}",
        f'-DWEIGHTS_DIR="{folder / "firmware" / "weights"}"',
        str(folder / f"{TOP}_test.cpp"),
        str(folder / "firmware" / f"{TOP}.cpp"),
        str(folder / "firmware" / "myproject.cpp"),
        "-o",
        str(executable),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"g++ failed on the core's C simulation:\n{done.stderr[-3000:]}")
    return executable, time.perf_counter() - start


def mask_words(mask: np.ndarray | None, pixels: int) -> np.ndarray:
    """(words,) uint32: the mask of ``pixels`` pixels packed 32 to a word, pixel p at bit
    p % 32 of word p // 32."""
    bits = np.zeros(-(-pixels // MASK_WORD_BITS) * MASK_WORD_BITS, np.uint64)
    if mask is not None:
        bits[:pixels] = np.asarray(mask, bool)
    weights = np.uint64(1) << np.arange(MASK_WORD_BITS, dtype=np.uint64)
    return (bits.reshape(-1, MASK_WORD_BITS) * weights).sum(axis=1).astype(np.uint32)


def run_csim(
    executable: Path,
    raw: np.ndarray,
    thresholds: np.ndarray,
    resets: np.ndarray,
    work: Path,
    mask_loads: dict[int, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Stream frames (frames, pixels) through the C simulation, one call per frame with that
    frame's threshold (score units) and reset flag, and ``mask_loads[t]`` (pixels,) the mask
    loaded with frame ``t``; every output it gives."""
    raw = np.asarray(raw, np.int64)
    frames, pixels = raw.shape
    if raw.min(initial=0) < 0 or raw.max(initial=0) > MAX_RAW:
        raise ValueError(f"raw values must be 0…{MAX_RAW}")
    words = len(mask_words(None, pixels))
    stream = np.zeros((frames, 3 + words + pixels), np.int32)
    stream[:, 0] = np.asarray(resets, np.int32)
    stream[:, 1] = np.asarray(thresholds, np.int32)
    for t, mask in (mask_loads or {}).items():
        stream[t, 2] = 1
        stream[t, 3 : 3 + words] = mask_words(mask, pixels).view(np.int32)
    stream[:, 3 + words :] = raw
    inputs, outputs = Path(work) / "core_stream.bin", Path(work) / "core_outputs.bin"
    with open(inputs, "wb") as f:
        np.array([frames, pixels], np.int32).tofile(f)
        stream.tofile(f)
    done = subprocess.run(
        [str(executable), str(inputs), str(outputs)], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"the core's C simulation failed:\n{done.stderr[-3000:]}")
    words = np.fromfile(outputs, np.int32).reshape(frames, 2 + 2 * pixels)
    inputs.unlink()
    outputs.unlink()
    return {
        "window_valid": words[:, 0].astype(bool),
        "count": words[:, 1].astype(np.int64),
        "score": words[:, 2 : 2 + pixels].astype(np.int64),
        "trigger": words[:, 2 + pixels :].astype(bool),
    }


def _header(golden, preprocessing, pixels, score_bits, interval, mask: np.ndarray) -> str:
    peak = int(preprocessing.peak_input)
    length = golden.sizes[0] - peak
    init = ", ".join(f"0x{int(w):08x}u" for w in mask)
    history = preprocessing.history_bits
    count_bits = max(1, pixels.bit_length())
    return f"""#ifndef UVHUNT_CORE_H_
#define UVHUNT_CORE_H_
// The uvhunt trigger core around the hls4ml network (myproject): written by `uvhunt core`.

#include "ap_int.h"
#include "hls_stream.h"
#include "myproject.h"

static const int N_PIXELS = {pixels};          // pixels per frame, row by row
static const int N_FRAMES = {length};          // frames per window
#define PEAK_INPUT {peak}  // 1: the network's last input is the window's floor(S / 5)
static const int N_INPUTS = N_FRAMES + PEAK_INPUT;  // network inputs
static const int PEAK_FRAMES = {PEAK_FRAMES};  // S: the largest sum of this many inputs
static const int SHIFT = {preprocessing.shift};  // raw >> SHIFT before the history
static const int Q_LOW = {preprocessing.low}, Q_HIGH = {preprocessing.high};  // input range
static const int PIXEL_II = {interval};        // clocks per pixel: the largest reuse factor
static const int SAMPLE_MAX = {(1 << history) - 1};  // the history keeps samples up to this
static const int MASK_WORDS = {len(mask)};  // pixel mask: pixel p is bit p % 32 of word p / 32
#define UVHUNT_MASK_INIT {{{init}}}  // the mask the core was built with (1 = never triggers)

typedef ap_uint<{MAX_RAW.bit_length()}> raw_t;  // raw D3 sum, counts
typedef ap_uint<{history}> sample_t;            // min(raw >> SHIFT, SAMPLE_MAX)
typedef ap_int<{history + 1}> diff_t;           // difference from the newest frame, exact
typedef ap_int<{history + 1 + math.ceil(math.log2(length)) + 1}> sum_t;
typedef ap_int<{score_bits}> score_t;           // the network's output in score units
typedef ap_uint<{count_bits}> count_t;
typedef ap_uint<32> mask_word_t;

struct core_out_t {{
    score_t score;  // 0 while the frame has no full windows
    bool trig;      // score > threshold, and the pixel not masked
}};

// One D3 frame: N_PIXELS raw sums in, N_PIXELS outputs out. reset empties the history
// (the next N_FRAMES - 1 frames have no window); mask_load replaces the pixel mask with
// mask_in before the frame (reset keeps the mask).
void {TOP}(hls::stream<raw_t> &frame_in, hls::stream<core_out_t> &frame_out,
           score_t threshold, bool reset, bool mask_load, const mask_word_t mask_in[MASK_WORDS],
           count_t &triggered, bool &window_valid);

#endif
"""


def _source(names: dict) -> str:
    return f"""// The uvhunt trigger core: each pixel's history and preprocessing around the MLP.
#include "{TOP}.h"

static score_t score_of(result_t y) {{
    score_t s;
    s.range() = y.range();  // the output's LSB is the score unit
    return s;
}}

void {TOP}(hls::stream<raw_t> &frame_in, hls::stream<core_out_t> &frame_out,
           score_t threshold, bool reset, bool mask_load, const mask_word_t mask_in[MASK_WORDS],
           count_t &triggered, bool &window_valid) {{
#pragma HLS INTERFACE axis port=frame_in
#pragma HLS INTERFACE axis port=frame_out
#pragma HLS INTERFACE s_axilite port=threshold
#pragma HLS INTERFACE s_axilite port=reset
#pragma HLS INTERFACE s_axilite port=mask_load
#pragma HLS INTERFACE s_axilite port=mask_in
#pragma HLS INTERFACE s_axilite port=triggered
#pragma HLS INTERFACE s_axilite port=window_valid
#pragma HLS INTERFACE s_axilite port=return
    static sample_t history[N_PIXELS][N_FRAMES];
#pragma HLS BIND_STORAGE variable=history type=ram_2p impl=bram
    static ap_uint<7> newest = N_FRAMES - 1;  // slot of the newest frame
    static ap_uint<7> frames_seen = 0;         // frames since reset, saturating at N_FRAMES
    static mask_word_t mask[MASK_WORDS] = UVHUNT_MASK_INIT;
    if (reset) {{
        newest = N_FRAMES - 1;
        frames_seen = 0;
    }}
    if (mask_load) {{
    load_mask:
        for (int w = 0; w < MASK_WORDS; w++) mask[w] = mask_in[w];
    }}
    const ap_uint<7> slot = newest == N_FRAMES - 1 ? ap_uint<7>(0) : ap_uint<7>(newest + 1);
    const bool valid = frames_seen >= N_FRAMES - 1;
    count_t count = 0;
pixels:
    for (int p = 0; p < N_PIXELS; p++) {{
#pragma HLS PIPELINE II=PIXEL_II
        const raw_t raw = frame_in.read();
        const raw_t shifted = raw >> SHIFT;
        const sample_t s = shifted > SAMPLE_MAX ? sample_t(SAMPLE_MAX) : sample_t(shifted);
        history[p][slot] = s;
        core_out_t out;
        out.score = 0;
        out.trig = false;
        if (valid) {{
            diff_t d[N_FRAMES];
            sum_t sum = 0;
        differences:
            for (int k = 0; k < N_FRAMES; k++) {{  // oldest first
                int i = slot + 1 + k;
                if (i >= N_FRAMES) i -= N_FRAMES;
                const sample_t h = k == N_FRAMES - 1 ? s : history[p][i];
                d[k] = diff_t(h) - diff_t(s);  // exact
                sum += d[k];
            }}
            sum_t baseline = sum / N_FRAMES;  // floor, also below zero
            if (sum < 0 && baseline * N_FRAMES != sum) baseline -= 1;
            input_t {names["inputs"]}[N_INPUTS];
            sum_t q[N_FRAMES];
        inputs:
            for (int k = 0; k < N_FRAMES; k++) {{
                const sum_t r = d[k] - baseline;
                q[k] = r < Q_LOW ? sum_t(Q_LOW) : r > Q_HIGH ? sum_t(Q_HIGH) : r;
                {names["inputs"]}[k] = q[k];
            }}
#if PEAK_INPUT
            sum_t peak = 0;  // the first of the largest PEAK_FRAMES-input sums
        peak_sums:
            for (int k = 0; k + PEAK_FRAMES <= N_FRAMES; k++) {{
                sum_t run = 0;
                for (int j = 0; j < PEAK_FRAMES; j++) run += q[k + j];
                if (k == 0 || run > peak) peak = run;
            }}
            sum_t quotient = peak / PEAK_FRAMES;  // floor, also below zero
            if (peak < 0 && quotient * PEAK_FRAMES != peak) quotient -= 1;
            {names["inputs"]}[N_FRAMES] = quotient;
#endif
            result_t {names["outputs"]}[1];
            myproject({names["inputs"]}, {names["outputs"]});
            out.score = score_of({names["outputs"]}[0]);
            out.trig = out.score > threshold && !mask[p / 32][p % 32];
            count += out.trig;
        }}
        frame_out.write(out);
    }}
    triggered = count;
    window_valid = valid;
    newest = slot;
    if (frames_seen < N_FRAMES) frames_seen++;
}}
"""


_TESTBENCH = f"""// C simulation of the uvhunt trigger core: frames from a file, outputs to a file.
// in:  int32 frames, pixels; then per frame int32 reset, threshold, mask_load,
//      mask words[MASK_WORDS], raw[pixels]
// out: per frame int32 window_valid, triggered, score[pixels], trig[pixels]
#include <cstdio>
#include <vector>
#include "firmware/{TOP}.h"

int main(int argc, char **argv) {{
    if (argc != 3) {{
        std::fprintf(stderr, "usage: %s STREAM.bin OUTPUTS.bin\\n", argv[0]);
        return 2;
    }}
    FILE *in = std::fopen(argv[1], "rb"), *out = std::fopen(argv[2], "wb");
    if (!in || !out) {{
        std::fprintf(stderr, "cannot open %s or %s\\n", argv[1], argv[2]);
        return 2;
    }}
    int header[2];
    if (std::fread(header, sizeof(int), 2, in) != 2 || header[1] != N_PIXELS) {{
        std::fprintf(stderr, "%s: the stream must have %d pixels per frame\\n", argv[1], N_PIXELS);
        return 2;
    }}
    std::vector<int> frame(3 + MASK_WORDS + N_PIXELS), result(2 + 2 * N_PIXELS);
    mask_word_t mask_in[MASK_WORDS];
    for (int t = 0; t < header[0]; t++) {{
        if (std::fread(frame.data(), sizeof(int), frame.size(), in) != frame.size()) {{
            std::fprintf(stderr, "%s: frame %d is cut short\\n", argv[1], t);
            return 2;
        }}
        hls::stream<raw_t> frame_in;
        hls::stream<core_out_t> frame_out;
        for (int w = 0; w < MASK_WORDS; w++) mask_in[w] = (unsigned)frame[3 + w];
        for (int p = 0; p < N_PIXELS; p++) frame_in.write(raw_t(frame[3 + MASK_WORDS + p]));
        count_t triggered;
        bool window_valid;
        {TOP}(frame_in, frame_out, score_t(frame[1]), frame[0] != 0, frame[2] != 0, mask_in,
              triggered, window_valid);
        result[0] = window_valid;
        result[1] = triggered.to_int();
        for (int p = 0; p < N_PIXELS; p++) {{
            const core_out_t o = frame_out.read();
            result[2 + p] = o.score.to_int();
            result[2 + N_PIXELS + p] = o.trig;
        }}
        std::fwrite(result.data(), sizeof(int), result.size(), out);
    }}
    std::fclose(in);
    std::fclose(out);
    return 0;
}}
"""


def _tcl(part: str, period_ns: float) -> str:
    return f"""# Vitis HLS: C simulation and synthesis of the uvhunt trigger core (by uvhunt core).
# vitis_hls -f build_{TOP}.tcl   (tb_data/core_stream.bin: a stream as the C simulation reads)
open_project -reset {TOP}_prj
set_top {TOP}
add_files firmware/myproject.cpp -cflags "-std=c++14"
add_files firmware/{TOP}.cpp -cflags "-std=c++14"
add_files -tb {TOP}_test.cpp -cflags "-std=c++14"
add_files -tb firmware/weights
add_files -tb tb_data
open_solution -reset solution1 -flow_target vivado
set_part {{{part}}}
create_clock -period {period_ns:g} -name default
if {{[file exists tb_data/core_stream.bin]}} {{
    csim_design -argv "tb_data/core_stream.bin tb_data/core_outputs.bin"
}}
csynth_design
exit
"""
