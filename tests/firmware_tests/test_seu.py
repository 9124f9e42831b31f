"""Single-event upsets in the trigger core: every register and memory of its Verilog in one
fault place, a seeded plan over them, and a real campaign in Verilator through cocotb, whose
directed faults have known outcomes (a flipped bit of the score's bias corrupts every later
score; a flipped divider remainder the core reloads before use is masked)."""

import re

import numpy as np
import pytest

from tests.golden_models import random_golden
from uvhunt._core.simulators import find_simulator
from uvhunt.firmware_tests.seu_plan import OUTCOMES, PLACES, Fault, find_targets, plan_faults
from uvhunt.hls.core_build import core_model, cycles_per_pixel, make_core
from uvhunt.hls.trigger_core import TOP
from uvhunt.quant.preprocess import Preprocessing
from uvhunt.stages.core_seu import run_campaign

LANES = 2


@pytest.fixture(scope="module")
def small_core(tmp_path_factory):
    golden = random_golden((48, 8, 8, 1), 5, 8, (6, 5), seed=3)
    model = core_model(golden, Preprocessing())
    folder = tmp_path_factory.mktemp("seu_core")
    core = make_core(model, 2, LANES)
    from amaranth.back import verilog

    (folder / f"{TOP}.v").write_text(verilog.convert(core, name=TOP))
    return golden, model, core, (folder / f"{TOP}.v").read_text()


def test_every_register_and_memory_has_one_place(small_core):
    *_, source = small_core
    targets = find_targets(source)
    names = [t.name for t in targets]
    assert len(names) == len(set(names))
    by_place = {p: {t.name for t in targets if t.place == p} for p in PLACES}
    assert {"wrom", "brom"} == by_place["weight_rom"] and by_place["history"] == {"hist"}
    assert {"ctrl_state", "p_cnt", "t_word", "t_fld", "nfr", "i_cnt"} <= by_place["control"]
    assert {"P_r0", "A_r0", "m_score", "total", "dbuf"} <= by_place["datapath"]
    registers = set(re.findall(r"^\s*(\\\S+ |[A-Za-z_][\w$]*)\s*<=", source, re.M))
    assert len([t for t in targets if t.depth == 1]) == len(registers) > 100
    with pytest.raises(ValueError, match="memory 'spare' of the core has no fault place"):
        find_targets(source + "\n  reg [3:0] spare [7:0];\n")
    # registers Yosys named after a write port: the history's sequence it, a buffer's is a tag
    for memory, place in (("hist", "control"), ("act0", "datapath")):
        extra = (
            "\n  reg [3:0] \\$signature__addr$999 ;\n    \\$signature__addr$999  <= 4'h0;\n"
            f"      {memory}[\\$signature__addr$999 ] <= 0;\n"
        )
        found = {t.name: t.place for t in find_targets(source + extra)}
        assert found["$signature__addr$999"] == place


def test_a_plan_is_seeded_and_covers_each_place(small_core):
    *_, source = small_core
    targets = {t.name: t for t in find_targets(source)}
    plan = plan_faults(list(targets.values()), 50, 2, 600, seed=4)
    assert plan == plan_faults(list(targets.values()), 50, 2, 600, seed=4)
    assert plan != plan_faults(list(targets.values()), 50, 2, 600, seed=5)
    assert [f.place for f in plan] == [p for p in PLACES for _ in range(50)]
    for f in plan:
        t = targets[f.target]
        assert t.place == f.place and 0 <= f.bit < t.width and 0 <= f.offset < 600
        assert (f.index is None) == (t.depth == 1) and (f.index or 0) < t.depth
    with pytest.raises(ValueError, match="no storage in the place 'nowhere'"):
        plan_faults(list(targets.values()), 1, 2, 600, 0, ("nowhere",))


def test_a_campaign_in_verilator_classifies_every_fault(small_core, tmp_path):
    golden, model, core, _ = small_core
    rng = np.random.default_rng(8)
    raw = rng.poisson(16_384, (60, 2)).astype(np.int64)
    raw[40:52, 1] += 7_000  # a bump: scores and trigger bits move
    per_pixel = cycles_per_pixel(model, LANES)
    last_bias = sum(g * core.N for g in core.groups[:-1])  # the score's bias, in the ROM
    directed = [
        Fault("weight_rom", "brom", last_bias, 0, 0, 5),
        Fault("datapath", "rem", None, 3, 1, 0),
    ]
    simulator = find_simulator("verilator", tmp_path / "bin")

    def campaign_of(folder, per_place, seed, **options):
        return run_campaign(
            golden, Preprocessing(), model, LANES, per_pixel, raw, simulator, tmp_path / folder,
            per_place, 2, 2, seed, **options,
        )  # fmt: skip

    result = campaign_of("directed", 0, 0, faults=directed)
    bias, remainder = result["places"]["weight_rom"], result["places"]["datapath"]
    assert bias["injected"] == 1 and bias["silent"] == 1  # every later score off by one
    assert remainder["injected"] == 1 and remainder["masked"] == 1  # reloaded before use
    campaign = campaign_of("r", 12, 1)
    # each trial starts from the clean stream's end state, written back: the same outcomes,
    # record for record, as streaming those frames again in every trial
    refilled = campaign_of("r_refill", 12, 1, refill=True)
    assert refilled["places"] == campaign["places"]
    outcomes = [(tmp_path / f / "outcomes.json").read_text() for f in ("r", "r_refill")]
    assert outcomes[0] == outcomes[1]
    assert list(campaign["places"]) == list(PLACES)
    for place, counts in campaign["places"].items():
        assert counts["injected"] == 12 == sum(counts[o] for o in OUTCOMES), place
        assert counts["corrected"] == counts["detected"] == 0  # nothing flags, unprotected
    assert campaign["places"]["history"]["silent"] > 0  # a flipped sample is in every window
    assert campaign["bits"]["history"] == 2 * 16 * 36 and campaign["pixels"] == 2
    protected = campaign_of(
        "e", 12, 1, places=("weight_rom", "history", "control"), mitigation="ecc_tmr"
    )
    refilled = campaign_of(
        "e_refill",
        12,
        1,
        places=("weight_rom", "history", "control"),
        mitigation="ecc_tmr",
        refill=True,
    )  # the protected core's state (check bits, three copies) written back as well
    outcomes = [(tmp_path / f / "outcomes.json").read_text() for f in ("e", "e_refill")]
    assert outcomes[0] == outcomes[1]
    assert protected["bits"]["history"] == 2 * 16 * (36 + 7)  # SECDED: 7 check bits a word
    control = [
        t for t in find_targets((tmp_path / "e" / f"{TOP}.v").read_text()) if t.place == "control"
    ]
    assert control and all(re.search(r"_tmr[012]$", t.name) for t in control)  # all tripled
    assert protected["bits"]["control"] == sum(t.bits for t in control)
    history, roms = protected["places"]["history"], protected["places"]["weight_rom"]
    assert history["corrected"] == 12, history  # every word is read: every flip corrected
    # a ROM word's flip is corrected (its copy serves); the copy's, or the history correction
    # table's, is never read
    assert roms["corrected"] > 0 and roms["corrected"] + roms["masked"] == 12, roms
    assert protected["places"]["control"]["masked"] == 12  # one copy of three: outvoted


def test_a_wrong_beat_counts_as_flagged_only_at_or_after_the_flag_in_its_frame():
    from uvhunt.firmware_tests.core_reference import Expected
    from uvhunt.firmware_tests.core_testbench import COMPARED, CoreScoreboard, StreamMonitor

    zeros = np.zeros((2, 3), np.int64)
    expected = Expected(
        np.ones(2, bool),
        zeros,
        zeros.astype(bool),
        np.zeros(2, np.int64),
        zeros,
        zeros,
        zeros,
        zeros.astype(bool),
        zeros.astype(bool),
    )

    def beat(pixel, score=0, flag=0):
        fields = {
            "window_valid": 1,
            "score": score,
            "trigger": 0,
            "first": int(pixel == 0),
            "last": int(pixel == 2),
            "count": 0,
            "frame_trigger": 0,
            "gate_peak": 0,
            "gate_centre": 0,
            "gate_spread": 0,
            "gate_trigger": 0,
            "gate_low": 0,
            "seu_corrected": 0,
            "seu_detected": flag,
        }
        return tuple(fields[name] for name in StreamMonitor.FIELDS)

    assert tuple(StreamMonitor.FIELDS)[:-2] == COMPARED  # the monitor reads what is compared
    board = CoreScoreboard(expected, 3)
    for b in (beat(0), beat(1, 5, flag=1), beat(2, 5)):  # wrong from the flagged beat on
        board.observe(b)
    assert len(board.mismatches) == 2 and board.unflagged_mismatches == 0
    for b in (beat(0, 5), beat(1, flag=1), beat(2)):  # wrong before the flag: not covered
        board.observe(b)
    assert len(board.mismatches) == 3 and board.unflagged_mismatches == 1
    assert board.detected_beats == 2 and board.done


def test_the_stream_tests_open_the_ports_only_and_the_campaign_everything(small_core):
    from uvhunt.sim.runner import ports, public_config

    _, _, core, source = small_core
    names = tuple(name for _, _, name in ports(source))
    assert sorted(names) == sorted([*core.signature.members, "clk", "rst"])
    config = public_config({TOP: names})
    assert config.count("public_flat_rw") == len(names) and '-var "m_score"' in config
    assert '-var "*"' in public_config({TOP: ("*",)})  # the campaign flips internal registers
    both = public_config({TOP: (), f"{TOP}_clocked": ("*",)})  # the stream, clocked
    assert both == f'`verilator_config\npublic_flat_rw -module "{TOP}_clocked" -var "*"\n'


def test_the_clocked_wrapper_connects_every_port_of_the_top_module_only(small_core):
    from uvhunt.sim.runner import CLOCKED_INSTANCE, clocked_top, ports

    _, _, _, source = small_core
    sub = "module helper(a, b);\n  input [3:0] a;\n  output b;\nendmodule\n"
    name, text = clocked_top(sub + source, TOP, "clk", 10)
    assert name == f"{TOP}_clocked" and f"  {TOP} {CLOCKED_INSTANCE} (" in text
    top_ports = ports(source)
    assert len(top_ports) == text.count("    .") and "a" not in [p for _, _, p in top_ports]
    for direction, width, port in top_ports:
        assert f"    .{port}({port})" in text
        kind = "reg" if direction == "input" else "wire"
        assert f"  {kind} {width + ' ' if width else ''}{port}" in text
    assert "  reg clk = 1'b1;" in text and "  always #5 clk = ~clk;" in text
    assert "  wire [23:0] m_score;" in text and "  reg [21:0] s_tdata;" in text
    for bad in ((TOP, "clk", 9), (TOP, "clock", 10), ("nothing", "clk", 10)):
        with pytest.raises(ValueError):
            clocked_top(source, *bad)
    # outputs read at once: the first port named holds the most significant bits
    _, packed = clocked_top(source, TOP, "clk", 10, {"m_both": ("m_score", "m_tvalid")})
    assert "  wire [24:0] m_both = {m_score, m_tvalid};" in packed
    for wrong in ({"m_both": ("m_score", "s_tdata")}, {"m_both": ()}):  # an input, nothing
        with pytest.raises(ValueError):
            clocked_top(source, TOP, "clk", 10, wrong)
