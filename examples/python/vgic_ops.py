"""What the example tests know about the machine: the shape of a config, which ops are valid
in which state (docs/trace-format.md sections 2.2 and 3), the guest addresses of a few
distributor and redistributor registers, and how two answers are compared.

The tests keep a tiny shadow of the scheduling state (the mode of each pCPU, who runs where,
which vCPUs are online) so that every op they send is valid; everything else is the business
of the implementations being compared.
"""

GICD_BASE = 0x3001000
GICR_BASE = 0x3020000  # GICv3: vCPU n's frame at GICR_BASE + n * 0x20000, SGI_base page at +0x10000
ISENABLER = 0x100
ICENABLER = 0x180
ISPENDR = 0x200
ICPENDR = 0x280
IPRIORITYR = 0x400

# A few priorities, with repeats, so that equal priorities (and the rules for ties) come up often.
PRIORITIES = [0x80, 0xA0, 0xA0, 0xA4, 0xC0]
PMRS = [0xFF, 0xF0, 0xB0, 0xA4, 0x90]


def hx(value):
    """Canonical hex (docs/trace-format.md section 1)."""
    return "0x%x" % value


class Shadow:
    """The scheduling state the generators need to produce valid ops, updated from the ops
    the oracle accepted."""

    def __init__(self, config):
        self.config = config
        self.gic = config["gic"]
        dom = config["domains"][0]
        self.domain = dom["id"]
        self.vcpus = dom["vcpus"]
        self.nr_spis = dom["nr_spis"]
        self.mode = ["idle"] * config["pcpus"]
        self.running = [None] * config["pcpus"]  # vCPU id running on each pCPU
        self.online = [True] * self.vcpus
        self.acked = [[] for _ in range(config["pcpus"])]  # intids acked per pCPU, for eoi

    # -- which pCPUs / vCPUs an op may name --------------------------------------------

    def pcpus_in(self, *modes):
        return [p for p, m in enumerate(self.mode) if m in modes]

    def runnable_vcpus(self):
        return [v for v in range(self.vcpus) if self.online[v] and v not in self.running]

    def stopped_vcpus(self, online):
        return [v for v in range(self.vcpus) if self.online[v] == online and v not in self.running]

    def spis(self):
        return list(range(32, 32 + self.nr_spis))

    # -- register addresses ------------------------------------------------------------

    def bit_reg(self, base, irq, vcpu):
        """(address, value) of a 32-bit write to a one-bit-per-IRQ register (ISENABLER,
        ICENABLER, ISPENDR, ICPENDR) touching `irq` only."""
        return self.frame(irq, vcpu) + base + 4 * (irq // 32), 1 << (irq % 32)

    def byte_reg(self, base, irq, vcpu):
        """The address of `irq`'s byte in a one-byte-per-IRQ register (IPRIORITYR)."""
        return self.frame(irq, vcpu) + base + irq

    def frame(self, irq, vcpu):
        """Where the registers of `irq` live: the distributor for SPIs; for SGIs and PPIs the
        vCPU's redistributor SGI_base page on v3, or the banked distributor registers on v2
        (which reach the current vCPU only, whatever `vcpu` says)."""
        if irq < 32 and self.gic == "v3":
            return GICR_BASE + vcpu * 0x20000 + 0x10000
        return GICD_BASE

    # -- keeping the shadow up to date -------------------------------------------------

    def applied(self, step, result):
        """Update the shadow after the oracle accepted `step` with `result`."""
        op = step["op"]
        p = step.get("pcpu")
        if op == "run":
            self.mode[p] = "hyp"
            self.running[p] = step["vcpu"]
            self.acked[p] = []
        elif op == "idle":
            self.mode[p] = "idle"
            self.running[p] = None
            self.acked[p] = []
        elif op == "enter":
            self.mode[p] = "guest"
        elif op == "exit":
            self.mode[p] = "hyp"
        elif op == "vcpu_off":
            self.online[step["vcpu"]] = False
        elif op == "vcpu_on":
            self.online[step["vcpu"]] = True
        elif op == "ack" and result.get("intid", 1023) != 1023:
            self.acked[p].append(result["intid"])
        elif op == "eoi" and step["intid"] in self.acked[p]:
            self.acked[p].remove(step["intid"])


def comparable(response):
    """The part of a step's answer two implementations must agree on: whether it was accepted,
    and the RESULT without `log` and without the text of a crash's `reason` (section 7)."""
    if not response.get("ok"):
        return {"ok": False}
    result = dict(response["result"])
    result.pop("log", None)
    if "reason" in result:
        result["reason"] = "..."
    return {"ok": True, "result": result}


def first_difference(a, b, path="$"):
    """The JSON path of the first place where a and b differ, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a.keys()) + [k for k in b.keys() if k not in a]:
            if key not in a or key not in b:
                return "%s.%s" % (path, key)
            d = first_difference(a[key], b[key], "%s.%s" % (path, key))
            if d is not None:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s[%d]" % (path, i))
            if d is not None:
                return d
        return None if len(a) == len(b) else "%s (length %d vs %d)" % (path, len(a), len(b))
    return None if a == b else path


def dig(value, path):
    """The value at a path produced by first_difference (best effort, for reports)."""
    import re

    for part in re.findall(r"\.([^.\[ ]+)|\[(\d+)\]", path.split(" ")[0][1:]):
        key, index = part
        try:
            value = value[key] if key else value[int(index)]
        except (KeyError, IndexError, TypeError):
            return "(absent)"
    return value
