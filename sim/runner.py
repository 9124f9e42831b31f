"""Build the generated RTL in a simulator and run the cocotb tests of ``firmware_tests`` on it,
through cocotb's own runner (``cocotb_tools.runner``)."""

import contextlib
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cocotb_tools.runner import Verilator, VerilatorControlFile, get_runner

from uvhunt._core.errors import UvhuntError
from uvhunt._core.simulators import CLOCKED_INSTANCE, HDL_CLOCK_ENV, Simulator
from uvhunt.hls.rtl import TOP, RtlDesign

TEST_MODULE = "uvhunt.firmware_tests.mlp_tests"
TESTS = (
    "every_vector_back_to_back",
    "input_valid_with_gaps",
    "reset_in_the_middle_of_a_stream",
    "idle_inputs_give_no_output",
)
VERILATOR_ARGS = ["-Wno-fatal", "-Wno-lint", "-Wno-style", "-O3", "--x-assign", "fast"]
REWRITE_ENV = "COCOTB_REWRITE_ASSERTION_FILES"
"""cocotb's setting of the files whose asserts pytest rewrites (a pattern, ``*.py`` unless
set): by default every module the simulation imports, torch's and numpy's included, is
rewritten anew at each start (no cached result), about 10 s of CPU a simulation."""
SIMULATION_SPEED_ARGS = ["-CFLAGS", "-O2"]
"""For long simulations of small designs: the model's C++ compiled -O2 instead of Verilator's
-Os (after it on the command line, so it wins). The trigger core's 56-frame stream: 1.58
frames/s instead of 1.29, for 1.3 s more build (its SEU campaigns too); the unrolled network,
whose build dominates, keeps -Os (-O0 halves its build, 31.1 → 16.2 s, but simulates 8,336
vectors/s against 31,481: below ``bench_rtl``'s floor of 10,000)."""


def public_config(opened: dict[str, tuple[str, ...]]) -> str:
    """A Verilator control file making, in each module of ``opened``, the signals it names
    (patterns; ``("*",)``: all of them) visible to cocotb, and nothing else: making every
    internal net public (cocotb's default ``--public-flat-rw``) multiplies Verilator's C++
    and build time, and each public signal keeps Verilator from optimizing it away."""
    lines = [
        f'public_flat_rw -module "{module}" -var "{name}"'
        for module, names in opened.items()
        for name in names
    ]
    return "\n".join(["`verilator_config", *lines, ""])


def ports(verilog: str) -> list[tuple[str, str, str]]:
    """(direction, range such as ``[11:0]`` or empty, name) of each port of the (single)
    module of a Verilog text, as declared in its body."""
    pattern = r"^\s*(input|output|inout)\b\s*(?:wire\s+|reg\s+)?(\[[^\]]*\])?\s*(\w+);"
    return [(d, width or "", name) for d, width, name in re.findall(pattern, verilog, re.M)]


def clocked_top(
    verilog: str,
    top: str,
    clock: str,
    period_ns: int,
    packed: dict[str, tuple[str, ...]] | None = None,
) -> tuple[str, str]:
    """A top level around module ``top`` (its Verilog text ``verilog``) that makes the clock
    in the simulator (rising edges at 0, T, 2T, ...; ``period_ns`` even): the ports become
    signals of the same names, inputs driven by cocotb, the design instance
    ``CLOCKED_INSTANCE``. A clock toggled by cocotb wakes Python twice per cycle, which for a
    core that spends a thousand clocks on each pixel was most of the simulation. ``packed``:
    extra signals, each the concatenation of the output ports named (the first the most
    significant), which cocotb reads at once instead of one port at a time. Returns
    (module name, Verilog)."""
    if period_ns < 2 or period_ns % 2:
        raise ValueError(f"the clock period must be an even number of ns, not {period_ns}")
    found = re.search(rf"^module\s+{re.escape(top)}\b.*?^endmodule", verilog, re.M | re.S)
    if found is None:
        raise ValueError(f"no module {top} in the Verilog")
    declared = ports(found.group(0))
    if clock not in [name for _, _, name in declared]:
        raise ValueError(f"module {top} has no port {clock}")
    name = f"{top}_clocked"
    lines = ["`timescale 1ns/1ps", f"module {name};"]
    for direction, width, port in declared:
        kind = "reg" if direction == "input" else "wire"
        start = " = 1'b1" if port == clock else ""
        lines.append(f"  {kind} {width + ' ' if width else ''}{port}{start};")
    widths = {port: _width(width) for direction, width, port in declared if direction == "output"}
    for signal, parts in (packed or {}).items():
        unknown = [p for p in parts if p not in widths]
        if unknown or not parts:
            raise ValueError(f"{signal}: {unknown or 'nothing'} among {top}'s outputs")
        bits = sum(widths[p] for p in parts)
        lines.append(f"  wire [{bits - 1}:0] {signal} = {{{', '.join(parts)}}};")
    lines.append(f"  always #{period_ns // 2} {clock} = ~{clock};")
    connections = ",\n".join(f"    .{port}({port})" for _, _, port in declared)
    lines += [f"  {top} {CLOCKED_INSTANCE} (", connections, "  );", "endmodule", ""]
    return name, "\n".join(lines)


def _width(declared: str) -> int:
    """Bits of a port range such as ``[11:0]`` (empty: 1)."""
    if not declared:
        return 1
    bounds = re.fullmatch(r"\[\s*(\d+)\s*:\s*(\d+)\s*\]", declared)
    if bounds is None:
        raise ValueError(f"cannot pack a port of range {declared}")
    return abs(int(bounds[1]) - int(bounds[2])) + 1


TRACE_TOP_ONLY = 'tracing_off -file "*/da4ml/src/*"\n'
"""Waveforms of the top level only: every net inside da4ml's pipeline would make a VCD of
gigabytes for the default design."""


class _TopOnlyVerilator(Verilator):
    """cocotb's Verilator runner without ``--public-flat-rw`` (``public_config`` opens the
    top)."""

    def _build_command(self):
        commands = super()._build_command()
        commands[0] = [a for a in commands[0] if a != "--public-flat-rw"]
        return commands


@dataclass(frozen=True)
class CosimRun:
    build_seconds: float
    test_seconds: float
    junit: Path
    results: Path
    """Folder of each test's JSON (and the back-to-back outputs, ``.npy``)."""
    log: Path
    waves: Path | None


def run_cosim(
    design: RtlDesign,
    simulator: Simulator,
    golden_file: Path,
    stimulus_file: Path,
    work: Path,
    waves: bool = False,
    tests: tuple[str, ...] = TESTS,
) -> CosimRun:
    """Build the unrolled network ``design`` and run the MLP ``tests`` on it (see
    ``run_cocotb``)."""
    return run_cocotb(
        [p.resolve() for p in design.source_paths],
        TOP,
        TEST_MODULE,
        tests,
        simulator,
        work,
        {
            "UVHUNT_GOLDEN": str(Path(golden_file).resolve()),
            "UVHUNT_STIMULUS": str(Path(stimulus_file).resolve()),
            "UVHUNT_PEAK_INPUT": str(int(design.peak_input)),
        },
        waves,
        trace_off=TRACE_TOP_ONLY,
    )


def run_cocotb(
    sources: list[Path],
    top: str,
    test_module: str,
    tests: tuple[str, ...],
    simulator: Simulator,
    work: Path,
    env: dict[str, str],
    waves: bool = False,
    trace_off: str = "",
    public: tuple[str, ...] = ("*",),
    long_run: bool = False,
    clock: tuple[str, int] | None = None,
    packed: dict[str, tuple[str, ...]] | None = None,
) -> CosimRun:
    """Build the Verilog ``sources`` (top module ``top``) in ``work/build`` and run ``tests``
    of the cocotb module ``test_module`` (a package name, e.g.
    ``uvhunt.firmware_tests.core_tests``) with ``env`` plus ``UVHUNT_RESULTS``; the JUnit XML,
    the results folder and the logs land in ``work``. ``public``: the top's signals cocotb
    reaches (Verilator; patterns), all of them by default. ``long_run``: compile for
    simulation speed (``SIMULATION_SPEED_ARGS``). ``clock`` (port, period in ns): the
    simulator makes that clock, in ``clocked_top``'s wrapper (the first source holds
    ``top``; the tests reach the design's internals as ``dut.core``, ``public`` applying
    there; ``packed``: the wrapper's packed output signals). Raises UvhuntError if the build
    or the run fails to start (failing tests are reported in the JUnit XML, not raised)."""
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    build_dir, results = work / "build", work / "results"
    runner = _TopOnlyVerilator() if simulator.name == "verilator" else get_runner(simulator.name)
    sources = [Path(p).resolve() for p in sources]
    design, env = top, simulation_env(test_module, env)
    if clock is not None:
        top, wrapper = clocked_top(sources[0].read_text(), design, *clock, packed)
        (work / f"{top}.v").write_text(wrapper)
        sources.append(work / f"{top}.v")
        env[HDL_CLOCK_ENV] = str(clock[1])
    build_args = []
    if simulator.name == "verilator":
        build_args = VERILATOR_ARGS + (SIMULATION_SPEED_ARGS if long_run else [])
        opened = {design: public}
        if clock is not None:
            build_args = [*build_args, "--timing"]
            opened[top] = ("*",)  # the wrapper: the ports' signals
        (work / "public.vlt").write_text(public_config(opened) + (trace_off if waves else ""))
        sources.append(VerilatorControlFile(work / "public.vlt"))
    with _environment(simulator.env):
        start = time.perf_counter()
        try:
            runner.build(
                sources=sources,
                hdl_toplevel=top,
                build_dir=build_dir,
                build_args=build_args,
                timescale=("1ns", "1ps"),
                waves=waves,
                always=True,
                log_file=work / "build.log",
            )
        except (SystemExit, subprocess.CalledProcessError, OSError, RuntimeError) as exc:
            raise UvhuntError(
                f"the {simulator.name} build of the RTL failed ({exc}); the build log ends:\n"
                + _tail(work / "build.log"),
                fix="if the generated RTL is at fault, report it with this log",
            ) from exc
        built = time.perf_counter()
        junit = work / "results.xml"
        try:
            runner.test(
                test_module=test_module,
                hdl_toplevel=top,
                hdl_toplevel_lang="verilog",
                testcase=list(tests),
                build_dir=build_dir,
                test_dir=work,
                results_xml=str(junit),
                extra_env={**env, "UVHUNT_RESULTS": str(results)},
                waves=waves,
                log_file=work / "sim.log",
            )
        except (SystemExit, subprocess.CalledProcessError, OSError, RuntimeError) as exc:
            # cocotb's runner exits non-zero when a test fails; the JUnit XML then says which.
            if not junit.is_file():
                raise UvhuntError(
                    f"the {simulator.name} simulation did not run to the end ({exc}); its log "
                    "ends:\n" + _tail(work / "sim.log"),
                    fix="if the generated RTL or the testbench is at fault, report it",
                ) from exc
    wave_file = next(iter(sorted(work.glob("*.vcd")) + sorted(build_dir.glob("*.fst"))), None)
    return CosimRun(
        build_seconds=built - start,
        test_seconds=time.perf_counter() - built,
        junit=junit,
        results=results,
        log=work / "sim.log",
        waves=wave_file if waves else None,
    )


def simulation_env(test_module: str, env: dict[str, str]) -> dict[str, str]:
    """``env`` for a simulation of ``test_module``'s tests: pytest's assert rewriting limited
    to that module's own file (its failed asserts still show their values), unless the
    caller's environment or ``env`` chooses (``REWRITE_ENV``)."""
    own = test_module.rsplit(".", 1)[-1] + ".py"
    return {REWRITE_ENV: os.environ.get(REWRITE_ENV, own), **env}


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def _environment(extra: dict[str, str]):
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
