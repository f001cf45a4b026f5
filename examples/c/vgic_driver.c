/*
 * A tiny example vGIC of its own behind the vgic-model driver protocol
 * (docs/trace-format.md section 7): one JSON request per line on stdin, one response line
 * per request on stdout.
 *
 * The interrupt controller here is deliberately simple and is NOT Xen's algorithm: one
 * domain, per-IRQ enable/priority/pending state, a few list registers per vCPU. The pending
 * enabled IRQs that are not in an LR yet go into the free LRs, highest priority (lowest
 * value) first, lowest INTID on a tie: on every entry to the guest, and at once when the
 * vCPU they are for runs on the pCPU that injects or enables them. There is no eviction, no
 * lr_pending queue and none of Xen's quirks; see README.md for where this makes its answers
 * differ from `vgic serve`.
 *
 * Build:  cc -O2 -Wall -Wextra -o vgic-driver vgic_driver.c -ljansson
 * Debian: apt-get install gcc libjansson-dev
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PCPUS 16
#define MAX_VCPUS 8
#define MAX_LRS 16
#define MAX_SPIS 960
#define NO_VCPU (-1)

enum mode { IDLE, HYP, GUEST };
static const char *const MODE_NAMES[] = { "idle", "hyp", "guest" };

/* LR state bits, as in the format: pending, active or both. */
enum { LR_PENDING = 1, LR_ACTIVE = 2 };

struct irq {            /* the distributor's view of one interrupt */
    int enabled;
    int pending;        /* asserted and not yet in an LR */
    uint8_t priority;
};

struct lr {
    int state;          /* 0: invalid */
    int virq;
    uint8_t priority;
};

struct vcpu {
    struct irq priv[32];      /* SGIs and PPIs */
    struct lr lrs[MAX_LRS];   /* saved while not running; here the LRs simply live in the vCPU */
    uint8_t pmr;
    uint32_t apr;             /* one active-priority bit per group priority (priority >> 3) */
    int running_on;           /* pCPU or NO_VCPU */
};

struct machine {
    int configured;
    int v3;
    int nr_lrs, nr_pcpus, nr_vcpus, nr_spis, domain;
    enum mode mode[MAX_PCPUS];
    int running[MAX_PCPUS];   /* vCPU id or NO_VCPU */
    struct vcpu vcpus[MAX_VCPUS];
    struct irq spis[MAX_SPIS];
    unsigned steps;           /* successful steps since the reset, for messages */
};

static struct machine m;
static char errbuf[512];

/* Format an error message into errbuf and return NULL (the "no result" of a step). */
static json_t *fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return NULL;
}

static json_t *ok_result(void) { return json_pack("{s:s}", "outcome", "ok"); }

static json_t *hex(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)v);
    return json_string(buf);
}

/* ---- reading requests ---------------------------------------------------------------- */

/* An integer field (a whole JSON number), or -1 when missing or not one. */
static long long int_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

/* A hex string field ("0x..."); returns 0 and sets *out, or -1. */
static int hex_field(json_t *obj, const char *key, uint64_t *out)
{
    const char *s = json_string_value(json_object_get(obj, key));
    char *end;
    if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || s[2] == '\0') return -1;
    *out = strtoull(s + 2, &end, 16);
    return *end == '\0' ? 0 : -1;
}

/* ---- the machine ----------------------------------------------------------------------- */

static struct irq *irq_of(int vcpu, int intid)
{
    if (intid < 32) return &m.vcpus[vcpu].priv[intid];
    if (intid < 32 + m.nr_spis) return &m.spis[intid - 32];
    return NULL;
}

/* The priority an LR carries: GICv2 LRs hold 5 bits (priority >> 3), shown shifted back. */
static uint8_t lr_priority(uint8_t p) { return m.v3 ? p : (uint8_t)(p & 0xf8); }

static int in_lr(const struct vcpu *v, int intid)
{
    for (int i = 0; i < m.nr_lrs; i++)
        if (v->lrs[i].state && v->lrs[i].virq == intid) return i;
    return -1;
}

/* Fill the free LRs of a vCPU with its pending enabled IRQs (its SGIs and PPIs, and the SPIs,
 * which all target vCPU 0 here), best priority first: on entry to the guest, and when an IRQ
 * becomes pending and enabled for the vCPU running on the pCPU that does it. */
static void fill_lrs(int vid)
{
    struct vcpu *v = &m.vcpus[vid];
    for (;;) {
        int free_lr = -1, best = -1;
        for (int i = 0; i < m.nr_lrs && free_lr < 0; i++)
            if (!v->lrs[i].state) free_lr = i;
        if (free_lr < 0) return;
        for (int intid = 0; intid < 32 + (vid == 0 ? m.nr_spis : 0); intid++) {
            struct irq *q = irq_of(vid, intid);
            if (!q->pending || !q->enabled) continue;
            int lr = in_lr(v, intid);
            if (lr >= 0) {            /* asserted again while active: pending+active */
                v->lrs[lr].state |= LR_PENDING;
                q->pending = 0;
                continue;
            }
            if (best < 0 || q->priority < irq_of(vid, best)->priority) best = intid;
        }
        if (best < 0) return;
        struct irq *q = irq_of(vid, best);
        v->lrs[free_lr] = (struct lr){ LR_PENDING, best, lr_priority(q->priority) };
        q->pending = 0;
    }
}

static int lowest_bit(uint32_t x)
{
    for (int i = 0; i < 32; i++)
        if (x & (1u << i)) return i;
    return 32;
}

/* ---- ops --------------------------------------------------------------------------------- */

/* Look up "pcpu" and check its mode is one of the allowed ones (a bit mask of 1 << mode). */
static int pcpu_arg(json_t *step, const char *op, unsigned modes)
{
    long long p = int_field(step, "pcpu");
    if (p < 0 || p >= m.nr_pcpus) {
        fail("step %u (%s): pcpu must be a pCPU 0..%d", m.steps, op, m.nr_pcpus - 1);
        return -1;
    }
    if (!(modes & (1u << m.mode[p]))) {
        fail("step %u (%s): pCPU %lld is %s", m.steps, op, p, MODE_NAMES[m.mode[p]]);
        return -1;
    }
    return (int)p;
}

static json_t *op_run(json_t *s)
{
    int p = pcpu_arg(s, "run", 1u << IDLE | 1u << HYP);
    if (p < 0) return NULL;
    long long d = int_field(s, "domain"), vid = int_field(s, "vcpu");
    if (d != m.domain || vid < 0 || vid >= m.nr_vcpus) return fail("step %u (run): no such vCPU", m.steps);
    if (m.vcpus[vid].running_on != NO_VCPU) return fail("step %u (run): vCPU %lld is already running", m.steps, vid);
    if (m.running[p] != NO_VCPU) m.vcpus[m.running[p]].running_on = NO_VCPU;
    m.running[p] = (int)vid;
    m.vcpus[vid].running_on = p;
    m.mode[p] = HYP;
    return ok_result();
}

static json_t *op_idle(json_t *s)
{
    int p = pcpu_arg(s, "idle", 1u << IDLE | 1u << HYP);
    if (p < 0) return NULL;
    if (m.running[p] != NO_VCPU) m.vcpus[m.running[p]].running_on = NO_VCPU;
    m.running[p] = NO_VCPU;
    m.mode[p] = IDLE;
    return ok_result();
}

static json_t *op_enter(json_t *s)
{
    int p = pcpu_arg(s, "enter", 1u << HYP);
    if (p < 0) return NULL;
    fill_lrs(m.running[p]);
    m.mode[p] = GUEST;
    return ok_result();
}

static json_t *op_exit(json_t *s)
{
    int p = pcpu_arg(s, "exit", 1u << GUEST);
    if (p < 0) return NULL;
    m.mode[p] = HYP;   /* drained LRs are already invalid: nothing to fold back */
    return ok_result();
}

static json_t *op_inject(json_t *s)
{
    int p = pcpu_arg(s, "inject", 1u << IDLE | 1u << HYP);
    if (p < 0) return NULL;
    long long d = int_field(s, "domain"), virq = int_field(s, "virq"), vid = 0;
    json_t *level = json_object_get(s, "level");
    if (d != m.domain) return fail("step %u (inject): no domain %lld", m.steps, d);
    if (virq < 32) {
        vid = int_field(s, "vcpu");
        if (vid < 0 || vid >= m.nr_vcpus) return fail("step %u (inject): an SGI or PPI needs an existing vcpu", m.steps);
    } else if (virq >= 32 + m.nr_spis || !json_is_null(json_object_get(s, "vcpu"))) {
        return fail("step %u (inject): virq %lld is not an SPI of the domain (or vcpu is not null)", m.steps, virq);
    }
    if (level == NULL || json_is_true(level)) irq_of((int)vid, (int)virq)->pending = 1;
    if (m.running[p] == vid) fill_lrs((int)vid);
    return ok_result();
}

static json_t *op_ack(json_t *s)
{
    int p = pcpu_arg(s, "ack", 1u << GUEST);
    if (p < 0) return NULL;
    struct vcpu *v = &m.vcpus[m.running[p]];
    int running = lowest_bit(v->apr), best = -1;
    for (int i = 0; i < m.nr_lrs; i++) {
        struct lr *l = &v->lrs[i];
        if (l->state != LR_PENDING || l->priority >= v->pmr || (l->priority >> 3) >= running) continue;
        if (best < 0 || (l->priority >> 3) < (v->lrs[best].priority >> 3)) best = i;
    }
    int intid = 1023;
    if (best >= 0) {
        v->lrs[best].state = LR_ACTIVE;
        v->apr |= 1u << (v->lrs[best].priority >> 3);
        intid = v->lrs[best].virq;
    }
    return json_pack("{s:s,s:i}", "outcome", "ok", "intid", intid);
}

static json_t *op_eoi(json_t *s)
{
    int p = pcpu_arg(s, "eoi", 1u << GUEST);
    if (p < 0) return NULL;
    long long intid = int_field(s, "intid");
    if (intid < 0) return fail("step %u (eoi): intid must be an integer", m.steps);
    struct vcpu *v = &m.vcpus[m.running[p]];
    v->apr &= v->apr - 1;   /* priority drop: the lowest set bit */
    for (int i = 0; i < m.nr_lrs; i++)   /* EOI mode 0: deactivate too */
        if ((v->lrs[i].state & LR_ACTIVE) && v->lrs[i].virq == intid) {
            v->lrs[i].state &= ~LR_ACTIVE;
            break;
        }
    return ok_result();
}

static json_t *op_pmr(json_t *s)
{
    int p = pcpu_arg(s, "pmr", 1u << GUEST);
    if (p < 0) return NULL;
    long long value = int_field(s, "value");
    if (value < 0 || value > 255) return fail("step %u (pmr): value must be 0..255", m.steps);
    m.vcpus[m.running[p]].pmr = (uint8_t)(m.v3 ? value : (value & 0xf8));
    return ok_result();
}

/* The registers this example emulates: ISENABLER, ICENABLER (32-bit) and IPRIORITYR (8 or
 * 32-bit), in the distributor and, on GICv3, in each vCPU's redistributor SGI_base page. */
static json_t *op_mmio(json_t *s)
{
    int p = pcpu_arg(s, "mmio", 1u << HYP);
    if (p < 0) return NULL;
    const char *access = json_string_value(json_object_get(s, "access"));
    long long size = int_field(s, "size");
    uint64_t addr, value = 0;
    int write = access != NULL && strcmp(access, "write") == 0;
    if (hex_field(s, "addr", &addr) != 0 || (write && hex_field(s, "value", &value) != 0))
        return fail("step %u (mmio): addr (and value for a write) must be hex strings", m.steps);
    int vid = m.running[p];
    uint64_t off;
    if (addr >= 0x3001000 && addr < 0x3001000 + (m.v3 ? 0x10000 : 0x1000)) {
        off = addr - 0x3001000;
    } else if (m.v3 && addr >= 0x3020000 && addr < 0x3020000 + (uint64_t)m.nr_vcpus * 0x20000
               && ((addr - 0x3020000) & 0x1ffff) >= 0x10000) {
        vid = (int)((addr - 0x3020000) / 0x20000);
        off = ((addr - 0x3020000) & 0xffff);
        if (off >= 0x104 && off < 0x800 && !(off >= 0x400 && off < 0x420))
            return fail("step %u (mmio): the example only emulates rank 0 in a redistributor", m.steps);
    } else {
        return fail("step %u (mmio): address %s is not emulated by this example", m.steps,
                    json_string_value(json_object_get(s, "addr")));
    }
    if (off >= 0x100 && off < 0x200 && size == 4 && addr % 4 == 0) {      /* ISENABLER / ICENABLER */
        int set = off < 0x180, first = (int)((off & 0x7f) * 8);
        uint32_t bits = 0;
        for (int i = 0; i < 32; i++) {
            struct irq *q = irq_of(vid, first + i);
            if (q == NULL) continue;
            if (write && (value >> i & 1)) q->enabled = set;
            bits |= (uint32_t)q->enabled << i;
        }
        if (!write) return json_pack("{s:s,s:o}", "outcome", "ok", "value", hex(bits));
        if (m.running[p] == vid || (first >= 32 && m.running[p] == 0)) fill_lrs(m.running[p]);
        return ok_result();
    }
    if (off >= 0x400 && off < 0x800 && (size == 1 || size == 4) && addr % size == 0) {   /* IPRIORITYR */
        uint64_t word = 0;
        for (int i = 0; i < size; i++) {
            struct irq *q = irq_of(vid, (int)(off - 0x400) + i);
            if (q == NULL) continue;
            if (write) q->priority = (uint8_t)(value >> (8 * i));
            word |= (uint64_t)q->priority << (8 * i);
        }
        if (!write) return json_pack("{s:s,s:o}", "outcome", "ok", "value", hex(word));
        return ok_result();
    }
    return fail("step %u (mmio): register at offset 0x%llx (size %lld) is not emulated by this example",
                m.steps, (unsigned long long)off, size);
}

static const struct { const char *name; json_t *(*fn)(json_t *); } OPS[] = {
    { "run", op_run }, { "idle", op_idle }, { "enter", op_enter }, { "exit", op_exit },
    { "inject", op_inject }, { "mmio", op_mmio }, { "ack", op_ack }, { "eoi", op_eoi },
    { "pmr", op_pmr },
};
#define NR_OPS (sizeof OPS / sizeof OPS[0])

/* ---- reset and snapshots ------------------------------------------------------------------- */

static int reset(json_t *config)
{
    json_t *domains = json_object_get(config, "domains"), *d0 = json_array_get(domains, 0);
    const char *gic = json_string_value(json_object_get(config, "gic"));
    memset(&m, 0, sizeof m);
    if (gic == NULL || (strcmp(gic, "v2") != 0 && strcmp(gic, "v3") != 0))
        return fail("config.gic: expected \"v2\" or \"v3\""), -1;
    m.v3 = strcmp(gic, "v3") == 0;
    m.nr_lrs = (int)int_field(config, "nr_lrs");
    m.nr_pcpus = (int)int_field(config, "pcpus");
    if (m.nr_lrs < 1 || m.nr_lrs > MAX_LRS) return fail("config.nr_lrs: this example supports 1..%d", MAX_LRS), -1;
    if (m.nr_pcpus < 1 || m.nr_pcpus > MAX_PCPUS) return fail("config.pcpus: expected 1..%d", MAX_PCPUS), -1;
    if (json_array_size(domains) != 1) return fail("config.domains: this example supports exactly one domain"), -1;
    m.domain = (int)int_field(d0, "id");
    m.nr_vcpus = (int)int_field(d0, "vcpus");
    long long spis = int_field(d0, "nr_spis");
    if (m.domain < 0 || m.nr_vcpus < 1 || m.nr_vcpus > MAX_VCPUS || spis < 0 || (spis + 31) / 32 * 32 > MAX_SPIS)
        return fail("config.domains[0]: this example supports 1..%d vCPUs and 0..%d SPIs", MAX_VCPUS, MAX_SPIS), -1;
    m.nr_spis = (int)((spis + 31) / 32 * 32);
    for (int p = 0; p < m.nr_pcpus; p++) m.running[p] = NO_VCPU;
    for (int v = 0; v < m.nr_vcpus; v++) m.vcpus[v].running_on = NO_VCPU;
    m.configured = 1;
    return 0;
}

/* The guest snapshot of docs/trace-format.md section 5.1: what the guest and the hardware can
 * observe (who runs where, each vCPU's LRs decoded, its priority mask, EOI mode and active
 * priorities, the routed host lines: none here), with the key order of the format. */
static json_t *guest_snapshot(void)
{
    json_t *pcpus = json_array(), *vcpus = json_array();
    for (int p = 0; p < m.nr_pcpus; p++) {
        json_t *running = m.running[p] == NO_VCPU ? json_null()
            : json_pack("{s:i,s:i}", "domain", m.domain, "vcpu", m.running[p]);
        json_array_append_new(pcpus, json_pack("{s:i,s:s,s:o}", "id", p, "mode", MODE_NAMES[m.mode[p]], "running", running));
    }
    for (int v = 0; v < m.nr_vcpus; v++) {
        json_t *lrs = json_array();
        for (int i = 0; i < m.nr_lrs; i++) {
            const struct lr *l = &m.vcpus[v].lrs[i];
            if (!l->state) continue;
            const char *st = l->state == LR_PENDING ? "pending" : l->state == LR_ACTIVE ? "active" : "pending+active";
            json_array_append_new(lrs, json_pack("{s:i,s:s,s:i,s:n,s:i,s:b}", "lr", i, "state", st, "virq", l->virq,
                                                 "pirq", "priority", l->priority, "grp1", m.v3));
        }
        json_array_append_new(vcpus, json_pack("{s:i,s:b,s:i,s:i,s:o,s:o}", "id", v, "online", 1,
                                               "pmr", m.vcpus[v].pmr, "eoimode", 0, "apr", hex(m.vcpus[v].apr),
                                               "lrs", lrs));
    }
    json_t *domain = json_pack("{s:i,s:o}", "id", m.domain, "vcpus", vcpus);
    return json_pack("{s:o,s:[o],s:[]}", "pcpus", pcpus, "domains", domain, "physical");
}

/* ---- the protocol ------------------------------------------------------------------------------ */

static json_t *handle(json_t *req, int *quit)
{
    json_t *id = json_object_get(req, "id");
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    json_t *res = json_pack("{s:O}", "id", id ? id : json_null());
    if (cmd == NULL) {
        json_object_set_new(res, "ok", json_false());
        json_object_set_new(res, "error", json_string("request without a cmd"));
        return res;
    }
    if (strcmp(cmd, "hello") == 0) {
        json_t *ops = json_array();
        for (size_t i = 0; i < NR_OPS; i++) json_array_append_new(ops, json_string(OPS[i].name));
        json_object_set_new(res, "ok", json_true());
        json_object_set_new(res, "format", json_string("vgic-trace/1"));
        json_object_set_new(res, "name", json_string("examples/c tiny vGIC (not Xen's algorithm)"));
        json_object_set_new(res, "ops", ops);
        json_object_set_new(res, "snapshots", json_string("guest"));
        return res;
    }
    if (strcmp(cmd, "quit") == 0) {
        *quit = 1;
        json_object_set_new(res, "ok", json_true());
        return res;
    }
    json_t *result = NULL;
    if (strcmp(cmd, "reset") == 0) {
        if (reset(json_object_get(req, "config")) == 0) result = json_true();
    } else if (!m.configured) {
        fail("%s before a successful reset", cmd);
    } else if (strcmp(cmd, "snapshot") == 0) {
        const char *level = json_string_value(json_object_get(req, "level"));
        if (level != NULL && strcmp(level, "guest") == 0)
            result = guest_snapshot();
        else
            fail("full snapshots not supported (ask for {\"cmd\":\"snapshot\",\"level\":\"guest\"})");
    } else if (strcmp(cmd, "step") == 0) {
        json_t *step = json_object_get(req, "step");
        const char *op = json_string_value(json_object_get(step, "op"));
        fail("step %u: op %s is not implemented by this example", m.steps, op ? op : "(none)");
        for (size_t i = 0; op != NULL && i < NR_OPS; i++)
            if (strcmp(op, OPS[i].name) == 0) result = OPS[i].fn(step);
        if (result != NULL) m.steps++;
    } else {
        fail("unknown cmd %s", cmd);
    }
    json_object_set_new(res, "ok", json_boolean(result != NULL));
    if (result == NULL) {
        json_object_set_new(res, "error", json_string(errbuf));
    } else if (strcmp(cmd, "step") == 0) {
        json_object_set_new(res, "result", result);
    } else if (strcmp(cmd, "snapshot") == 0) {
        json_object_set_new(res, "snapshot", result);
    } else {
        json_decref(result);
    }
    return res;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    int quit = 0;
    while (!quit && getline(&line, &cap, stdin) != -1) {
        if (line[strspn(line, " \t\r\n")] == '\0') continue;   /* empty lines are skipped */
        json_error_t err;
        json_t *req = json_loads(line, JSON_REJECT_DUPLICATES, &err), *res;
        if (!json_is_object(req)) {
            res = json_pack("{s:n,s:b,s:s}", "id", "ok", 0, "error", "request is not a JSON object");
            quit = 2;
        } else {
            res = handle(req, &quit);
        }
        char *out = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", out);
        fflush(stdout);
        free(out);
        json_decref(res);
        json_decref(req);
    }
    free(line);
    return quit == 2 ? 2 : 0;
}
