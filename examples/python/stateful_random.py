#!/usr/bin/env python3
"""A seeded random stateful test: the same random ops go to an oracle (`vgic serve`) and to a
system under test (another implementation, or `vgic serve --mutant NAME`); the first step
where their answers differ is reported with the seed, shrunk to a short case.

Standard library only.

    python3 stateful_random.py --oracle "vgic serve" --sut "vgic serve --mutant evict-on-equal" \\
        --seed 1 --runs 200 --steps 60

Exit status: 0 no difference in any run; 1 a difference was found (the report is printed,
and with --out also written as a vgic-trace/1 file whose steps expect what the oracle did);
2 bad usage or a side that broke the protocol.
"""

import argparse
import json
import random
import sys
import time

from vgic_client import ProtocolError, VgicClient
from vgic_ops import (
    ICENABLER, ICPENDR, IPRIORITYR, ISENABLER, ISPENDR, PMRS, PRIORITIES,
    Shadow, comparable, dig, first_difference, hx,
)


# -- generating a run ------------------------------------------------------------------

def random_config(rng):
    return {
        "gic": rng.choice(["v2", "v3"]),
        "nr_lrs": rng.choice([1, 2, 2, 3, 4]),
        "pcpus": rng.choice([1, 1, 2]),
        "domains": [{"id": 1, "vcpus": rng.choice([1, 2]), "nr_spis": 32}],
    }


def random_irq(shadow, rng):
    """A few SPIs and PPIs only, so that the same interrupts meet again and again."""
    return rng.choice([32, 33, 34, 35, 36, 37, 27, 28])


def random_step(shadow, rng):
    """One op valid in the shadow's state (docs/trace-format.md section 3), chosen by weight."""
    choices = []
    idle_or_hyp = shadow.pcpus_in("idle", "hyp")
    hyp = shadow.pcpus_in("hyp")
    guest = shadow.pcpus_in("guest")
    if idle_or_hyp and shadow.runnable_vcpus():
        choices += [("run", 3)]
    if idle_or_hyp:
        choices += [("idle", 1), ("inject", 8)]
    if hyp:
        choices += [("enter", 6), ("enable", 4), ("disable", 1), ("priority", 3), ("setpend", 1),
                    ("clearpend", 1), ("read", 1), ("pending_check", 1)]
    if guest:
        choices += [("exit", 6), ("ack", 5), ("eoi", 4), ("pmr", 2), ("eoimode", 1)]
    if shadow.stopped_vcpus(True):
        choices += [("vcpu_off", 1)]
    if shadow.stopped_vcpus(False):
        choices += [("vcpu_on", 2)]
    kind = rng.choices([c for c, _ in choices], [w for _, w in choices])[0]

    d = shadow.domain
    if kind == "run":
        return {"op": "run", "pcpu": rng.choice(idle_or_hyp), "domain": d, "vcpu": rng.choice(shadow.runnable_vcpus())}
    if kind == "idle":
        return {"op": "idle", "pcpu": rng.choice(idle_or_hyp)}
    if kind in ("enter", "pending_check"):
        return {"op": kind, "pcpu": rng.choice(hyp)}
    if kind in ("exit", "ack"):
        return {"op": kind, "pcpu": rng.choice(guest)}
    if kind == "inject":
        irq = random_irq(shadow, rng)
        return {"op": "inject", "pcpu": rng.choice(idle_or_hyp), "domain": d,
                "vcpu": None if irq >= 32 else rng.randrange(shadow.vcpus), "virq": irq,
                "level": rng.random() > 0.1}
    if kind in ("enable", "disable", "setpend", "clearpend", "read"):
        p = rng.choice(hyp)
        irq = random_irq(shadow, rng)
        base = {"enable": ISENABLER, "disable": ICENABLER, "setpend": ISPENDR,
                "clearpend": ICPENDR, "read": ISENABLER}[kind]
        addr, value = shadow.bit_reg(base, irq, rng.randrange(shadow.vcpus))
        if kind == "read":
            return {"op": "mmio", "pcpu": p, "access": "read", "addr": hx(addr), "size": 4}
        return {"op": "mmio", "pcpu": p, "access": "write", "addr": hx(addr), "size": 4, "value": hx(value)}
    if kind == "priority":
        irq = random_irq(shadow, rng)
        addr = shadow.byte_reg(IPRIORITYR, irq, rng.randrange(shadow.vcpus))
        return {"op": "mmio", "pcpu": rng.choice(hyp), "access": "write", "addr": hx(addr), "size": 1,
                "value": hx(rng.choice(PRIORITIES))}
    if kind == "eoi":
        p = rng.choice(guest)
        intid = rng.choice(shadow.acked[p]) if shadow.acked[p] and rng.random() < 0.9 else random_irq(shadow, rng)
        return {"op": "eoi", "pcpu": p, "intid": intid}
    if kind == "pmr":
        return {"op": "pmr", "pcpu": rng.choice(guest), "value": rng.choice(PMRS)}
    if kind == "eoimode":
        return {"op": "eoimode", "pcpu": rng.choice(guest), "value": rng.choice([0, 0, 1])}
    if kind == "vcpu_off":
        return {"op": "vcpu_off", "domain": d, "vcpu": rng.choice(shadow.stopped_vcpus(True))}
    return {"op": "vcpu_on", "domain": d, "vcpu": rng.choice(shadow.stopped_vcpus(False))}


# -- running a case on both sides ------------------------------------------------------

class Difference:
    def __init__(self, index, step, what, path, oracle, sut):
        self.index, self.step, self.what, self.path, self.oracle, self.sut = index, step, what, path, oracle, sut


def compare_snapshots(oracle, sut, index, step):
    """Compare the two snapshots as text (canonical JSON), parse them only when they differ."""
    ta, tb = oracle.snapshot_text(), sut.snapshot_text()
    if ta == tb:
        return None
    sa, sb = json.loads("{" + ta), json.loads("{" + tb)
    sa, sb = sa.get("snapshot", sa), sb.get("snapshot", sb)
    path = first_difference(sa, sb)
    return None if path is None else Difference(index, step, "snapshot", path, sa, sb)


def replay(oracle, sut, config, steps, snapshots):
    """Run config + steps on both sides. Returns (Difference or None, the oracle's answers).
    A step the oracle refuses is a Difference only when the SUT accepts it."""
    answers = []
    for side in (oracle, sut):
        r = side.reset(config)
        if not r["ok"]:
            if side is oracle:
                raise ProtocolError("the oracle refused the config: %s" % r.get("error"))
            return Difference(-1, None, "reset", "$", {"ok": True}, r), answers
    for i, step in enumerate(steps):
        a, b = oracle.step(step), sut.step(step)
        ca, cb = comparable(a), comparable(b)
        path = first_difference(ca, cb)
        if path is not None:
            return Difference(i, step, "result", path, ca, cb), answers
        answers.append(a)
        if snapshots and a["ok"] and a["result"]["outcome"] != "crash":
            diff = compare_snapshots(oracle, sut, i, step)
            if diff is not None:
                return diff, answers
    return None, answers


def generate(oracle, sut, config, nsteps, rng, snapshots):
    """One random run, generated step by step against the oracle. Returns (steps, Difference)."""
    shadow = Shadow(config)
    diff, _ = replay(oracle, sut, config, [], snapshots)
    if diff is not None:
        return [], diff
    steps = []
    for _ in range(nsteps):
        step = random_step(shadow, rng)
        steps.append(step)
        a, b = oracle.step(step), sut.step(step)
        ca, cb = comparable(a), comparable(b)
        path = first_difference(ca, cb)
        if path is not None:
            return steps, Difference(len(steps) - 1, step, "result", path, ca, cb)
        if a["ok"]:
            shadow.applied(step, a["result"])
            if snapshots and a["result"]["outcome"] != "crash":
                diff = compare_snapshots(oracle, sut, len(steps) - 1, step)
                if diff is not None:
                    return steps, diff
            if a["result"]["outcome"] == "crash":
                break  # the machine is dead: nothing more to compare in this run
    return steps, None


def shrink(oracle, sut, config, steps, snapshots, budget_s=10.0):
    """Greedy shrinking: drop chunks of steps, then single steps, as long as the oracle still
    accepts every step before the difference and a difference remains."""
    deadline = time.monotonic() + budget_s

    def still_fails(candidate):
        diff, answers = replay(oracle, sut, config, candidate, snapshots)
        if diff is None or any(not a["ok"] for a in answers):
            return None
        return candidate[: diff.index + 1]

    current = steps
    chunk = max(1, len(current) // 2)
    while chunk >= 1 and time.monotonic() < deadline:
        i, progress = 0, False
        while i < len(current) and time.monotonic() < deadline:
            smaller = still_fails(current[:i] + current[i + chunk:])
            if smaller is not None:
                current, progress = smaller, True
            else:
                i += chunk
        if not progress:
            chunk //= 2
    diff, answers = replay(oracle, sut, config, current, snapshots)
    return current, diff, answers


def report(seed, run, config, steps, diff, answers, out):
    print("DIFFERENCE found (seed %d, run %d) at step %d of %d after shrinking: %s"
          % (seed, run, diff.index, len(steps), json.dumps(diff.step, separators=(",", ":"))))
    print("  %s differs at %s" % (diff.what, diff.path))
    print("    oracle: %s" % json.dumps(dig(diff.oracle, diff.path), separators=(",", ":")))
    print("    sut:    %s" % json.dumps(dig(diff.sut, diff.path), separators=(",", ":")))
    print("  config: %s" % json.dumps(config, separators=(",", ":")))
    print("  steps:")
    for i, step in enumerate(steps):
        print("    %2d %s" % (i, json.dumps(step, separators=(",", ":"))))
    print("  rerun: --seed %d (the difference comes in run %d)" % (seed, run))
    if out:
        trace = {"format": "vgic-trace/1", "name": "random-seed-%d-run-%d" % (seed, run),
                 "description": "A difference found by examples/python/stateful_random.py; the steps expect what the oracle answered.",
                 "config": config, "steps": []}
        for step, answer in zip(steps, answers + [None]):
            s = dict(step)
            if answer is None and diff.what == "result" and diff.oracle.get("ok"):
                s["expect"] = {"result": diff.oracle["result"]}
            elif answer is not None and answer["ok"]:
                s["expect"] = {"result": comparable(answer)["result"]}
            trace["steps"].append(s)
        with open(out, "w") as f:
            json.dump(trace, f, indent=1)
            f.write("\n")
        print("  written: %s" % out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--oracle", required=True, help='the reference command, e.g. "vgic serve"')
    ap.add_argument("--sut", required=True, help='the command under test, e.g. "vgic serve --mutant evict-on-equal"')
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=60, help="steps per run (default 60)")
    ap.add_argument("--runs", type=int, default=100, help="runs, each with a fresh random config (default 100)")
    ap.add_argument("--snapshots", action="store_true", help="also compare the full snapshots after every step")
    ap.add_argument("--out", help="write the shrunk difference as a vgic-trace/1 file")
    args = ap.parse_args(argv)
    if args.steps < 1 or args.runs < 1:
        ap.error("--steps and --runs must be at least 1")

    rng = random.Random(args.seed)
    started = time.monotonic()
    try:
        with VgicClient(args.oracle) as oracle, VgicClient(args.sut) as sut:
            for side in (oracle, sut):
                h = side.hello()
                if not h["ok"] or h.get("format") != "vgic-trace/1":
                    raise ProtocolError("%s: hello answered %r" % (side.command, h))
            for run in range(args.runs):
                config = random_config(rng)
                steps, diff = generate(oracle, sut, config, args.steps, rng, args.snapshots)
                if diff is None:
                    continue
                steps, diff, answers = shrink(oracle, sut, config, steps, args.snapshots)
                report(args.seed, run, config, steps, diff, answers, args.out)
                return 1
    except ProtocolError as e:
        print("protocol error: %s" % e, file=sys.stderr)
        return 2
    print("no difference in %d runs of %d steps (seed %d, %.1f s)"
          % (args.runs, args.steps, args.seed, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
