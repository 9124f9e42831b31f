"""Triple modular redundancy of registers, for the trigger core's control state.

``Tripler(m).triple(signal, ...)`` triples registered signals of an Amaranth ``Module``: every
synchronous assignment to such a signal then drives three copies (``<name>_tmr0..2``), and
the signal itself becomes their bitwise majority, combinational. An upset in one copy is
outvoted at once and overwritten at the next clock edge, since all three copies load the
next value computed from the vote. The copies carry ``keep`` so that synthesis does not merge
them back into one.

Amaranth forbids subclassing ``Module``; the tripler wraps the module's statement intake
(``Module._add_statement``, Amaranth 0.5), the one place every ``m.d.sync +=`` passes.
"""

from amaranth.hdl import Module, Signal
from amaranth.hdl._ast import Assign, Statement

TMR_SUFFIX = "_tmr"
"""A copy's name: the signal's name, this, and 0, 1 or 2."""
KEEP_COPIES = "\n".join(
    [
        "proc",
        f"select -set copies w:*{TMR_SUFFIX}0 w:*{TMR_SUFFIX}1 w:*{TMR_SUFFIX}2",
        "setattr -set keep 1 @copies %ci1:+$dff[Q]",
        "select -clear",
    ]
)
"""Yosys commands, after reading the design: the flip-flops of the copies marked ``keep``, so
that ``opt_merge`` does not merge the three (identical inputs) into one. ``keep`` on the
wires alone does not stop it."""


class Tripler:
    def __init__(self, m: Module):
        self.m = m
        self._copies: dict[int, list[Signal]] = {}
        intake = m._add_statement

        def add_statement(assigns, domain, depth):
            if domain == "sync" and self._copies:
                assigns = [s for stmt in Statement.cast(assigns) for s in self._expand(stmt)]
            intake(assigns, domain, depth)

        m._add_statement = add_statement

    def triple(self, *signals: Signal) -> None:
        """Triple these registers; call before any assignment to them."""
        for signal in signals:
            copies = [
                Signal(
                    signal.shape(),
                    init=signal.init,
                    name=f"{signal.name}{TMR_SUFFIX}{i}",
                    attrs={"keep": 1},
                )
                for i in range(3)
            ]
            self._copies[id(signal)] = copies
            a, b, c = copies
            self.m.d.comb += signal.eq((a & b) | (a & c) | (b & c))

    def _expand(self, stmt):
        if isinstance(stmt, Assign) and isinstance(stmt.lhs, Signal):
            copies = self._copies.get(id(stmt.lhs))
            if copies:
                return [copy.eq(stmt.rhs) for copy in copies]
        return [stmt]
