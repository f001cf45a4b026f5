#!/usr/bin/env python3
"""The stateful random test as a Hypothesis RuleBasedStateMachine: each rule is one op, each
rule's precondition says when the op is valid (docs/trace-format.md section 3), and every
step goes to the oracle and to the system under test, whose answers must agree. Hypothesis
generates the sequences and shrinks a failing one to a short program.

Needs Hypothesis (Debian: python3-hypothesis). Run it as a script:

    python3 hypothesis_state_machine.py --oracle "vgic serve" \\
        --sut "vgic serve --mutant evict-on-equal" [--examples 300] [--snapshots]

or under pytest, with the commands in the environment:

    VGIC_ORACLE="vgic serve" VGIC_SUT="vgic serve --mutant evict-on-equal" \\
        python3 -m pytest hypothesis_state_machine.py

Exit status (script): 0 no difference, 1 a difference (Hypothesis prints the shrunk steps),
2 bad usage.
"""

import atexit
import json
import os
import sys
import unittest

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from vgic_client import VgicClient
from vgic_ops import (
    ICENABLER, IPRIORITYR, ISENABLER, ISPENDR, PMRS, PRIORITIES,
    Shadow, comparable, first_difference, hx,
)

IRQS = st.sampled_from([32, 33, 34, 35, 36, 37, 27, 28])
_sides = {}


def sides():
    """The two processes, started once and reset for every example."""
    if not _sides:
        oracle, sut = os.environ.get("VGIC_ORACLE"), os.environ.get("VGIC_SUT")
        if not oracle or not sut:
            raise RuntimeError("set VGIC_ORACLE and VGIC_SUT (or pass --oracle and --sut) to the two commands")
        _sides["oracle"], _sides["sut"] = VgicClient(oracle), VgicClient(sut)
        atexit.register(lambda: [c.quit() for c in _sides.values()])
    return _sides["oracle"], _sides["sut"]


def can(*modes):
    """A precondition: the machine is up and some pCPU is in one of these modes."""
    return lambda self: self.shadow is not None and not self.dead and bool(self.shadow.pcpus_in(*modes))


class VgicMachine(RuleBasedStateMachine):
    shadow = None

    @initialize(gic=st.sampled_from(["v2", "v3"]), nr_lrs=st.integers(1, 4),
                pcpus=st.integers(1, 2), vcpus=st.integers(1, 2))
    def reset(self, gic, nr_lrs, pcpus, vcpus):
        self.oracle, self.sut = sides()
        self.config = {"gic": gic, "nr_lrs": nr_lrs, "pcpus": pcpus,
                       "domains": [{"id": 1, "vcpus": vcpus, "nr_spis": 32}]}
        for side in (self.oracle, self.sut):
            answer = side.reset(self.config)
            assert answer["ok"], "%s refused %s: %s" % (side.command, json.dumps(self.config), answer.get("error"))
        self.shadow = Shadow(self.config)
        self.dead = False

    def send(self, step):
        """One step on both sides; their answers (and, with VGIC_SNAPSHOTS=1, the snapshots
        after it) must agree."""
        a, b = self.oracle.step(step), self.sut.step(step)
        ca, cb = comparable(a), comparable(b)
        assert ca == cb, "step %s: answers differ at %s\n  oracle: %s\n  sut:    %s" % (
            json.dumps(step), first_difference(ca, cb), json.dumps(ca), json.dumps(cb))
        if not a["ok"]:
            return
        self.shadow.applied(step, a["result"])
        if a["result"]["outcome"] == "crash":
            self.dead = True
        elif os.environ.get("VGIC_SNAPSHOTS") == "1":
            ta, tb = self.oracle.snapshot_text(), self.sut.snapshot_text()
            if ta != tb:  # compare the text first; parse only to say where they differ
                path = first_difference(json.loads("{" + ta), json.loads("{" + tb))
                assert path is None, "step %s: snapshots differ at %s" % (json.dumps(step), path)

    @precondition(lambda self: can("idle", "hyp")(self) and bool(self.shadow.runnable_vcpus()))
    @rule(data=st.data())
    def run(self, data):
        self.send({"op": "run", "pcpu": data.draw(st.sampled_from(self.shadow.pcpus_in("idle", "hyp"))),
                   "domain": 1, "vcpu": data.draw(st.sampled_from(self.shadow.runnable_vcpus()))})

    @precondition(can("idle", "hyp"))
    @rule(data=st.data())
    def idle(self, data):
        self.send({"op": "idle", "pcpu": data.draw(st.sampled_from(self.shadow.pcpus_in("idle", "hyp")))})

    @precondition(can("idle", "hyp"))
    @rule(data=st.data(), irq=IRQS, level=st.booleans())
    def inject(self, data, irq, level):
        vcpu = None if irq >= 32 else data.draw(st.integers(0, self.shadow.vcpus - 1))
        self.send({"op": "inject", "pcpu": data.draw(st.sampled_from(self.shadow.pcpus_in("idle", "hyp"))),
                   "domain": 1, "vcpu": vcpu, "virq": irq, "level": level})

    @precondition(can("hyp"))
    @rule(data=st.data())
    def enter(self, data):
        self.send({"op": "enter", "pcpu": data.draw(st.sampled_from(self.shadow.pcpus_in("hyp")))})

    @precondition(can("guest"))
    @rule(data=st.data())
    def exit(self, data):
        self.send({"op": "exit", "pcpu": data.draw(st.sampled_from(self.shadow.pcpus_in("guest")))})

    @precondition(can("hyp"))
    @rule(data=st.data(), irq=IRQS, reg=st.sampled_from([ISENABLER, ISENABLER, ICENABLER, ISPENDR]))
    def write_bit(self, data, irq, reg):
        addr, value = self.shadow.bit_reg(reg, irq, data.draw(st.integers(0, self.shadow.vcpus - 1)))
        self.send({"op": "mmio", "pcpu": data.draw(st.sampled_from(self.shadow.pcpus_in("hyp"))),
                   "access": "write", "addr": hx(addr), "size": 4, "value": hx(value)})

    @precondition(can("hyp"))
    @rule(data=st.data(), irq=IRQS, priority=st.sampled_from(PRIORITIES))
    def write_priority(self, data, irq, priority):
        addr = self.shadow.byte_reg(IPRIORITYR, irq, data.draw(st.integers(0, self.shadow.vcpus - 1)))
        self.send({"op": "mmio", "pcpu": data.draw(st.sampled_from(self.shadow.pcpus_in("hyp"))),
                   "access": "write", "addr": hx(addr), "size": 1, "value": hx(priority)})

    @precondition(can("guest"))
    @rule(data=st.data())
    def ack(self, data):
        self.send({"op": "ack", "pcpu": data.draw(st.sampled_from(self.shadow.pcpus_in("guest")))})

    @precondition(can("guest"))
    @rule(data=st.data(), other=IRQS)
    def eoi(self, data, other):
        p = data.draw(st.sampled_from(self.shadow.pcpus_in("guest")))
        acked = self.shadow.acked[p]
        self.send({"op": "eoi", "pcpu": p, "intid": acked[-1] if acked else other})

    @precondition(can("guest"))
    @rule(data=st.data(), value=st.sampled_from(PMRS))
    def pmr(self, data, value):
        self.send({"op": "pmr", "pcpu": data.draw(st.sampled_from(self.shadow.pcpus_in("guest"))), "value": value})

    @precondition(lambda self: self.shadow is not None and not self.dead and bool(self.shadow.stopped_vcpus(True)))
    @rule(data=st.data())
    def vcpu_off(self, data):
        self.send({"op": "vcpu_off", "domain": 1, "vcpu": data.draw(st.sampled_from(self.shadow.stopped_vcpus(True)))})

    @precondition(lambda self: self.shadow is not None and not self.dead and bool(self.shadow.stopped_vcpus(False)))
    @rule(data=st.data())
    def vcpu_on(self, data):
        self.send({"op": "vcpu_on", "domain": 1, "vcpu": data.draw(st.sampled_from(self.shadow.stopped_vcpus(False)))})


VgicMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("VGIC_EXAMPLES", "300")),
    stateful_step_count=50,
    deadline=None,
    database=None,  # nothing written to .hypothesis/
    derandomize=os.environ.get("VGIC_DERANDOMIZE", "1") == "1",  # the same run every time, for CI
    suppress_health_check=list(HealthCheck),
    # Without the "explain" phase (newer Hypothesis), which re-runs the failing case many
    # times to say which lines only it ran: a few seconds per subprocess round trip saved.
    phases=[p for p in Phase if p.name != "explain"],
)
TestVgic = VgicMachine.TestCase


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Hypothesis state machine: oracle vs system under test.")
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--sut", required=True)
    ap.add_argument("--examples", type=int, default=300, help="Hypothesis max_examples (default 300)")
    ap.add_argument("--snapshots", action="store_true", help="also compare the snapshots after every step")
    ap.add_argument("--random", action="store_true", help="a new random run instead of the derandomized one")
    args = ap.parse_args()
    os.environ.update(VGIC_ORACLE=args.oracle, VGIC_SUT=args.sut)
    VgicMachine.TestCase.settings = settings(
        VgicMachine.TestCase.settings, max_examples=args.examples, derandomize=not args.random)
    if args.snapshots:
        os.environ["VGIC_SNAPSHOTS"] = "1"
    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    sys.exit(0 if result.wasSuccessful() else 1)
