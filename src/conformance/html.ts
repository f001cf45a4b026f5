/**
 * `vgic dump --html`: a trace as one self-contained HTML page (inline CSS, no script, no
 * external resources). Steps run across as columns, headed by index, op and outcome; down
 * the rows come each pCPU's mode and UIE, then for each vCPU its list registers, lr_pending,
 * inflight list, interface registers and live records. A cell that differs from the
 * previous column is outlined. Every reference id the page shows (the trace's `refs`, ids in
 * its description and notes) links to a glossary at the end of the page that states it, so
 * the page stays self-contained. Pure: returns the page as a string.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { DomainSnapshot, LrSnapshot, Snapshot, VcpuSnapshot } from '../machine/snapshot.js';
import { checkStep, collectSteps, expectText, opCompact, resultCompact, resultLog, type DumpRun, type DumpStep } from './dump.js';
import type { Trace } from './trace.js';
import { XEN_COMMIT, lookupRef, refAnchor, refKey, refLabel, splitCitations } from './refs.js';
import { GICV3_GICD_SIZE, GICV3_GICR_SIZE, GUEST_GICV3_GICD_BASE, GUEST_GICV3_GICR0_BASE, GUEST_GICV3_GICR0_SIZE } from '../xen/vgic-v3.js';

export interface HtmlOptions {
  /** A step to highlight (its column gets an outline and the anchor `#s<K>`). */
  step?: number;
}

/** Escape text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

// ----- reference ids -----

/** The in-page anchor of a reference id's glossary entry (`#ref-Q12`, `#ref-sec-3.8`). */
export function glossaryAnchor(key: string): string {
  return `ref-${refAnchor(key)}`;
}

/** The ids a page cites, in order of first appearance: the ones it links and lists. */
class Citations {
  readonly keys: string[] = [];

  private note(key: string): boolean {
    if (lookupRef(key) === undefined) return false;
    if (!this.keys.includes(key)) this.keys.push(key);
    return true;
  }

  /** A `refs` entry as a chip, linked when the id is known (written as in the trace). */
  chip(raw: string): string {
    const key = refKey(raw);
    if (key === null || !this.note(key)) return `<span class="ref">${escapeHtml(raw)}</span>`;
    return `<a class="ref" href="#${glossaryAnchor(key)}" title="${escapeHtml(`${refLabel(key)}: ${lookupRef(key)!.title}`)}">${escapeHtml(raw)}</a>`;
  }

  /** Running text, escaped, with every known id in it linked. */
  text(s: string): string {
    return splitCitations(s).map((p) => (p.key !== undefined && this.note(p.key)
      ? `<a class="refl" href="#${glossaryAnchor(p.key)}">${escapeHtml(p.text)}</a>`
      : escapeHtml(p.text))).join('');
  }

  /** The glossary: every cited id with its title and statement. */
  glossary(): string {
    if (this.keys.length === 0) return '';
    const items = this.keys.map((k) => {
      const x = lookupRef(k)!;
      return `<dt id="${glossaryAnchor(k)}">${escapeHtml(refLabel(k))}: ${escapeHtml(x.title)}</dt><dd>${escapeHtml(x.text)}</dd>`;
    });
    return `<h2 id="refs" style="font-size:14px;margin:12px 0 4px">Reference ids cited on this page</h2>
<dl class="glossary">${items.join('\n')}</dl>
<p class="meta">Ids as explained in docs/xen-behaviour.md of vgic-model (Xen commit ${escapeHtml(XEN_COMMIT)}).</p>`;
  }
}

// ----- cells -----

/** One cell: `html` is already escaped; `key` decides whether it changed since the last column. */
interface Cell {
  html: string;
  key: string;
  cls?: string;
  title?: string;
}

const EMPTY: Cell = { html: '', key: '' };

interface Row {
  label: string;
  /** Extra class on the row (section headers, small text). */
  cls?: string;
  labelTitle?: string;
  cell: (s: Snapshot) => Cell;
}

interface Section {
  title: string;
  rows: Row[];
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function lrIndex(lr: number): string {
  return lr === 0xff ? '–' : String(lr);
}

const STATE_CLASS: Record<LrSnapshot['state'], string> = { pending: 'st-p', active: 'st-a', 'pending+active': 'st-pa' };
const STATE_SHORT: Record<LrSnapshot['state'], string> = { pending: 'P', active: 'A', 'pending+active': 'P+A' };
const STATUS_SHORT: Record<string, string> = { QUEUED: 'Q', ACTIVE: 'A', VISIBLE: 'V', ENABLED: 'E', MIGRATING: 'M', PRISTINE_LPI: 'L' };

function findDomain(s: Snapshot, id: number): DomainSnapshot | undefined {
  return s.domains.find((d) => d.id === id);
}

function findVcpu(s: Snapshot, dom: number, id: number): VcpuSnapshot | undefined {
  return findDomain(s, dom)?.vcpus.find((v) => v.id === id);
}

function lrCell(lr: LrSnapshot | undefined): Cell {
  if (lr === undefined) return EMPTY;
  const hw = lr.pirq === null ? '' : ` <span class="hw">hw ${lr.pirq}</span>`;
  return {
    html: `<b>${lr.virq}</b> <span class="sx">${STATE_SHORT[lr.state]}</span> <span class="pr">${hex2(lr.priority)}</span>${hw}`,
    key: `${lr.raw}`,
    cls: STATE_CLASS[lr.state],
    title: `LR${lr.lr}: virq ${lr.virq}, ${lr.state}, priority 0x${hex2(lr.priority)}${lr.grp1 ? ', group 1' : ', group 0'}${lr.pirq === null ? '' : `, HW pirq ${lr.pirq}`}; raw ${lr.raw}`,
  };
}

/** Priority of a record as the snapshot's `irqs` lists it (for tooltips). */
function recordOf(d: DomainSnapshot, v: VcpuSnapshot, irq: number): { priority: number; status: string[] } | undefined {
  return d.irqs.find((r) => r.irq === irq && (r.vcpu === null || r.vcpu === v.id));
}

function listCell(d: DomainSnapshot, v: VcpuSnapshot, items: { irq: number; text: string }[]): Cell {
  if (items.length === 0) return EMPTY;
  const text = items.map((i) => i.text).join(' ');
  const title = items.map((i) => {
    const r = recordOf(d, v, i.irq);
    return r === undefined ? i.text : `${i.text} prio 0x${hex2(r.priority)} [${r.status.join(' ')}]`;
  }).join('\n');
  return { html: escapeHtml(text), key: text, cls: 'list', title };
}

/**
 * Live records as `irq:flags`; records that are only ENABLED (the common, quiet case) are
 * counted as `+N E` instead of listed, so that a guest enabling many SPIs stays readable.
 */
function recordsCell(recs: { irq: number; status: string[]; priority: number; lr: number }[]): Cell {
  if (recs.length === 0) return EMPTY;
  const flags = (r: { irq: number; status: string[] }): string => `${r.irq}:${r.status.map((s) => STATUS_SHORT[s] ?? s).join('')}`;
  const quiet = recs.filter((r) => r.status.length === 1 && r.status[0] === 'ENABLED');
  const busy = recs.filter((r) => !quiet.includes(r));
  const text = [...busy.map(flags), ...(quiet.length > 0 ? [`+${quiet.length}\u00a0E`] : [])].join(' ');
  const title = recs.map((r) => `${r.irq}: [${r.status.join(' ')}] prio 0x${hex2(r.priority)} lr ${lrIndex(r.lr)}`).join('\n');
  return { html: escapeHtml(text), key: recs.map(flags).join(' '), cls: 'list', title };
}

/** Does this vCPU ever hold any state (or run) in the run? */
function vcpuTouched(snaps: Snapshot[], dom: number, id: number): boolean {
  return snaps.some((s) => {
    const d = findDomain(s, dom);
    const v = d?.vcpus.find((x) => x.id === id);
    if (d === undefined || v === undefined) return false;
    return v.lrs.length > 0 || v.inflight.length > 0 || v.lr_pending.length > 0 || !v.online || v.apr !== '0x0'
      || d.irqs.some((r) => r.vcpu === id)
      || s.pcpus.some((c) => c.running !== null && c.running.domain === dom && c.running.vcpu === id);
  });
}

/** The rows of the page, from the config and every state the run went through. */
function sections(run: DumpRun, snaps: Snapshot[]): { sections: Section[]; hidden: string[] } {
  const cfg = run.trace.config;
  const out: Section[] = [];
  const hidden: string[] = [];
  const pcpuRows: Row[] = [];
  for (let p = 0; p < cfg.pcpus; p++) {
    pcpuRows.push({
      label: `pCPU${p} mode`,
      cell: (s) => {
        const c = s.pcpus.find((x) => x.id === p);
        if (c === undefined) return EMPTY;
        const who = c.running === null ? '' : ` d${c.running.domain}v${c.running.vcpu}`;
        const text = `${c.mode}${who}`;
        return { html: escapeHtml(text), key: text, cls: `mode-${c.mode}` };
      },
    });
    pcpuRows.push({
      label: `pCPU${p} UIE`,
      cell: (s) => (s.pcpus.find((x) => x.id === p)?.uie === true ? { html: 'UIE', key: 'UIE', cls: 'uie', title: 'HCR.UIE set: underflow maintenance interrupt enabled' } : EMPTY),
    });
  }
  out.push({ title: 'physical CPUs', rows: pcpuRows });

  // Show every LR of a small LR file; of a large one only those that are ever used.
  const usedLrs = new Set<number>();
  for (const s of snaps) for (const d of s.domains) for (const v of d.vcpus) for (const lr of v.lrs) usedLrs.add(lr.lr);
  const lrList = Array.from({ length: cfg.nr_lrs }, (_, i) => i).filter((i) => cfg.nr_lrs <= 16 || usedLrs.has(i));
  if (lrList.length < cfg.nr_lrs) hidden.push(`${cfg.nr_lrs - lrList.length} of ${cfg.nr_lrs} LRs are never used and not shown`);

  for (const dc of cfg.domains) {
    const shown: number[] = [];
    for (let id = 0; id < dc.vcpus; id++) if (dc.vcpus <= 8 || vcpuTouched(snaps, dc.id, id)) shown.push(id);
    if (shown.length < dc.vcpus) hidden.push(`d${dc.id}: ${dc.vcpus - shown.length} of ${dc.vcpus} vCPUs hold no state throughout and are not shown`);
    for (const id of shown) {
      const rows: Row[] = [];
      const at = (s: Snapshot): { d: DomainSnapshot; v: VcpuSnapshot } | undefined => {
        const d = findDomain(s, dc.id);
        const v = findVcpu(s, dc.id, id);
        return d === undefined || v === undefined ? undefined : { d, v };
      };
      for (const i of lrList) {
        rows.push({ label: `LR${i}`, cls: 'lrrow', cell: (s) => lrCell(at(s)?.v.lrs.find((l) => l.lr === i)) });
      }
      rows.push({
        label: 'lr_pending',
        labelTitle: 'IRQs waiting for a free LR, in list order (priority order)',
        cell: (s) => {
          const x = at(s);
          return x === undefined ? EMPTY : listCell(x.d, x.v, x.v.lr_pending.map((irq) => ({ irq, text: String(irq) })));
        },
      });
      rows.push({
        label: 'inflight',
        labelTitle: 'inflight_irqs in list order, as irq@lr (lr – is GIC_INVALID_LR, 255)',
        cell: (s) => {
          const x = at(s);
          return x === undefined ? EMPTY : listCell(x.d, x.v, x.v.inflight.map((e) => ({ irq: e.irq, text: `${e.irq}@${lrIndex(e.lr)}` })));
        },
      });
      rows.push({
        label: 'lr_mask',
        cls: 'small',
        cell: (s) => {
          const v = at(s)?.v;
          return v === undefined ? EMPTY : { html: escapeHtml(v.lr_mask), key: v.lr_mask };
        },
      });
      rows.push({
        label: 'pmr eoi apr',
        cls: 'small',
        labelTitle: 'guest priority mask, EOI mode and active-priority bits',
        cell: (s) => {
          const v = at(s)?.v;
          if (v === undefined) return EMPTY;
          const text = `${hex2(v.pmr)} ${v.eoimode} ${v.apr}${v.online ? '' : ' OFF'}`;
          return { html: escapeHtml(text), key: text, title: `pmr 0x${hex2(v.pmr)}, eoimode ${v.eoimode}, apr ${v.apr}${v.online ? '' : ', vCPU offline'}` };
        },
      });
      rows.push({
        label: 'records',
        cls: 'small',
        labelTitle: 'live private pending_irq records: irq:status (Q queued, A active, V visible, E enabled, M migrating, L pristine LPI); +N E: N more that are only enabled',
        cell: (s) => {
          const x = at(s);
          return x === undefined ? EMPTY : recordsCell(x.d.irqs.filter((r) => r.vcpu === id));
        },
      });
      out.push({ title: `d${dc.id}v${id}`, rows });
    }
    out.push({
      title: `d${dc.id} SPIs`,
      rows: [{
        label: 'records',
        cls: 'small',
        labelTitle: 'live SPI pending_irq records: irq:status (Q queued, A active, V visible, E enabled, M migrating); +N E: N more that are only enabled',
        cell: (s) => {
          const d = findDomain(s, dc.id);
          return d === undefined ? EMPTY : recordsCell(d.irqs.filter((r) => r.vcpu === null));
        },
      }],
    });
  }

  const pirqs = [...new Set(snaps.flatMap((s) => s.physical.map((p) => p.pirq)))].sort((a, b) => a - b);
  if (pirqs.length > 0) {
    out.push({
      title: 'routed host IRQs',
      rows: pirqs.map((pirq) => ({
        label: `pirq ${pirq}`,
        cls: 'small',
        cell: (s: Snapshot): Cell => {
          const p = s.physical.find((x) => x.pirq === pirq);
          if (p === undefined) return EMPTY;
          const flags = [p.enabled ? 'en' : 'dis', p.pending ? 'P' : '', p.active ? 'A' : '', p.in_progress ? 'IP' : ''].filter((f) => f !== '');
          const text = `d${p.domain}:${p.virq} ${flags.join(' ')} @${p.affinity}`;
          return { html: escapeHtml(text), key: text, title: `pirq ${pirq} -> d${p.domain} virq ${p.virq}: ${p.enabled ? 'enabled' : 'disabled'}, pending ${p.pending}, active ${p.active}, in progress ${p.in_progress}, affinity pCPU${p.affinity}` };
        },
      })),
    });
  }
  return { sections: out, hidden };
}

// ----- columns -----

type ColumnKind = 'initial' | 'step' | 'stop';

interface Column {
  kind: ColumnKind;
  index: number;
  snapshot: Snapshot | null;
  step?: DumpStep;
}

function short(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? '';
}

/**
 * A guest physical address as its frame and offset: `GICD+0x420`, `GICR1+0x10100` (vCPU 1's
 * redistributor frame, trace-format §3.3); anything else as written.
 */
export function mmioWhere(addr: unknown): string {
  if (typeof addr !== 'string' || !/^0[xX][0-9a-fA-F]+$/.test(addr)) return short(addr);
  const a = Number(BigInt(addr));
  if (a >= GUEST_GICV3_GICD_BASE && a < GUEST_GICV3_GICD_BASE + GICV3_GICD_SIZE) return `GICD+0x${(a - GUEST_GICV3_GICD_BASE).toString(16)}`;
  if (a >= GUEST_GICV3_GICR0_BASE && a < GUEST_GICV3_GICR0_BASE + GUEST_GICV3_GICR0_SIZE) {
    const off = a - GUEST_GICV3_GICR0_BASE;
    return `GICR${Math.floor(off / GICV3_GICR_SIZE)}+0x${(off % GICV3_GICR_SIZE).toString(16)}`;
  }
  return addr;
}

/** The arguments of an op, shortened for a column header (the full op is in the tooltip). */
export function opArgs(op: Record<string, unknown>): string {
  const parts: string[] = [];
  const rest = { ...op };
  delete rest['op'];
  if ('pcpu' in rest) {
    parts.push(`p${short(rest['pcpu'])}`);
    delete rest['pcpu'];
  }
  if ('domain' in rest) {
    const vcpu = rest['vcpu'];
    parts.push(`d${short(rest['domain'])}${vcpu === null || vcpu === undefined ? '' : `v${short(vcpu)}`}`);
    delete rest['domain'];
    delete rest['vcpu'];
  }
  if ('access' in rest) {
    const where = 'addr' in rest ? mmioWhere(rest['addr']) + ('size' in rest ? `/${short(rest['size'])}` : '') : short(rest['reg'] ?? '');
    parts.push(`${rest['access'] === 'write' ? 'W' : 'R'} ${where}${'value' in rest ? ` =${short(rest['value'])}` : ''}`);
    for (const k of ['access', 'addr', 'size', 'reg', 'value']) delete rest[k];
  }
  for (const [k, v] of Object.entries(rest)) parts.push(k === 'virq' || k === 'intid' || k === 'pirq' ? `${k} ${short(v)}` : `${k}=${short(v)}`);
  return parts.join(' ');
}

function resultExtras(r: Record<string, unknown>): string {
  return Object.entries(r)
    .filter(([k]) => k !== 'outcome' && k !== 'reason' && k !== 'log')
    .map(([k, v]) => (k === 'snapshot' ? 'snapshot' : `${k} ${short(v)}`))
    .join(' ');
}

function headerCell(col: Column, run: DumpRun, selected: boolean): string {
  const sel = selected ? ' sel' : '';
  if (col.kind === 'initial') {
    return `<th class="col init${sel}" title="the state before step 0"><div class="idx">init</div><div class="opn">&nbsp;</div><div class="args">before step 0</div></th>`;
  }
  if (col.kind === 'stop') {
    const stop = run.stopped!;
    const raw = run.trace.steps[stop.step]?.raw;
    const op = raw === undefined ? null : Object.fromEntries(Object.entries(raw).filter(([k]) => k !== 'expect'));
    return `<th class="col out-stop${sel}" id="s${stop.step}" title="${escapeHtml(`${op === null ? '' : `${opCompact(op)}\n`}${stop.message}`)}">`
      + `<div class="idx">${stop.step}</div><div class="opn">${escapeHtml(stop.op ?? '')}</div>`
      + `<div class="args">${op === null ? '' : escapeHtml(opArgs(op))}</div><div class="out"><span class="badge">trace error</span></div></th>`;
  }
  const st = col.step!;
  const outcome = short(st.result['outcome']);
  const expect = st.expect.status === 'fail' || st.expect.status === 'error' ? ' exp-fail' : '';
  const tip = [`step ${st.index}: ${opCompact(st.op)}`, `-> ${resultCompact(st.result)}`, ...resultLog(st.result).map((l) => `log ${l}`), expectText(st.expect) ?? ''].filter((l) => l !== '').join('\n');
  const mark = st.expect.status === 'pass' ? '<span class="xp" title="expectation met">✓</span>'
    : st.expect.status === 'none' ? '' : '<span class="xf">expect ✗</span>';
  const extras = resultExtras(st.result);
  return `<th class="col out-${escapeHtml(outcome)}${expect}${sel}" id="s${st.index}" title="${escapeHtml(tip)}">`
    + `<div class="idx">${st.index}</div><div class="opn">${escapeHtml(short(st.op['op']))}</div>`
    + `<div class="args">${escapeHtml(opArgs(st.op))}</div>`
    + `<div class="out"><span class="badge">${escapeHtml(outcome)}</span>${extras === '' ? '' : ` <span class="ex">${escapeHtml(extras)}</span>`}${mark}</div></th>`;
}

// ----- page -----

const CSS = `
:root { --line: #d0d4da; --muted: #5f6b7a; }
* { box-sizing: border-box; }
body { margin: 0; padding: 12px 16px; font: 13px/1.35 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430; background: #fafbfc; }
h1 { font-size: 18px; margin: 0 0 4px; font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
.desc { margin: 2px 0 6px; max-width: 110ch; white-space: pre-wrap; }
.meta { color: var(--muted); margin: 2px 0; }
.ref { display: inline-block; padding: 0 6px; margin-right: 4px; border: 1px solid var(--line); border-radius: 8px; background: #fff; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; color: #1d2430; }
.alert { margin: 6px 0; padding: 6px 10px; border-left: 4px solid #b42318; background: #fdecea; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; white-space: pre-wrap; }
.legend { margin: 6px 0 8px; color: var(--muted); font-size: 12px; }
.legend span.sw { display: inline-block; padding: 0 6px; margin: 0 8px 0 2px; border: 1px solid var(--line); color: #1d2430; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.scroll { overflow: auto; max-height: calc(100vh - 24px); border: 1px solid var(--line); background: #fff; }
table { border-collapse: separate; border-spacing: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
th, td { border-right: 1px solid var(--line); border-bottom: 1px solid var(--line); padding: 2px 5px; vertical-align: top; }
td { min-width: 64px; max-width: 150px; white-space: nowrap; }
td.list { white-space: normal; word-break: break-word; }
thead th { position: sticky; top: 0; z-index: 2; background: #eef1f5; font-weight: normal; text-align: left; min-width: 64px; max-width: 150px; }
th.lbl { position: sticky; left: 0; z-index: 1; background: #f3f5f8; text-align: left; font-weight: 600; white-space: nowrap; min-width: 110px; }
thead th.lbl { z-index: 3; background: #e3e7ed; vertical-align: bottom; }
th.col .idx { font-weight: 700; }
th.col .opn { font-weight: 700; color: #0b4f8a; }
th.col .args { color: var(--muted); font-size: 11px; white-space: normal; overflow-wrap: anywhere; }
th.col .out { margin-top: 2px; font-size: 11px; }
th.col .ex { color: #1d2430; }
.badge { display: inline-block; padding: 0 4px; border-radius: 3px; background: #dfe7dd; color: #234d20; }
th.out-crash { background: #f8d0cc; }
th.out-crash .badge { background: #b42318; color: #fff; font-weight: 700; }
th.out-abort, th.out-undef, th.out-error { background: #fde6c8; }
th.out-abort .badge, th.out-undef .badge, th.out-error .badge { background: #c4620a; color: #fff; font-weight: 700; }
th.out-latched .badge { background: #d6e4ff; color: #163d7a; }
th.out-stop { background: #4a1010; color: #fff; }
th.out-stop .opn, th.out-stop .args { color: #fde0dc; }
th.out-stop .badge { background: #fff; color: #8a1c12; font-weight: 700; }
th.exp-fail { border-bottom: 3px solid #b42318; }
.xp { color: #3c7a3a; margin-left: 4px; }
.xf { color: #b42318; font-weight: 700; margin-left: 4px; }
th.init { background: #e9ecf1; color: var(--muted); }
tr.sec th, tr.sec td { background: #2f3b4c; color: #fff; font-weight: 700; border-right: none; padding-top: 3px; padding-bottom: 3px; }
tr.sec th.lbl { background: #2f3b4c; }
tr.small td { font-size: 11px; color: #3d4653; }
tr.lrrow td { text-align: left; }
.st-p { background: #ffe7a3; }
.st-a { background: #b9d7ff; }
.st-pa { background: #dcc2f7; }
.sx { font-size: 10px; font-weight: 700; }
.pr { color: #5f4b00; font-size: 11px; }
.st-a .pr, .st-pa .pr { color: #27365c; }
.hw { display: inline-block; padding: 0 3px; border-radius: 3px; background: #1d2430; color: #fff; font-size: 10px; }
.mode-guest { background: #d9f2d9; }
.mode-hyp { background: #e4e8ff; }
.mode-idle { color: #9aa3ae; }
.uie { background: #ffd6e7; font-weight: 700; color: #8a1150; }
td.chg { box-shadow: inset 0 0 0 2px #e8590c; }
td.chg:not(.st-p):not(.st-a):not(.st-pa):not(.uie):not(.mode-guest):not(.mode-hyp) { background-color: #fff4d6; }
td.dead { background: repeating-linear-gradient(135deg, #f1f1f1 0 4px, #fafafa 4px 8px); color: #9aa3ae; text-align: center; }
.sel { outline: 2px solid #0b66c3; outline-offset: -2px; }
ol.notes { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; padding-left: 20px; }
ol.notes li { margin: 2px 0; white-space: pre-wrap; }
a { color: #0b66c3; }
a.ref { text-decoration: none; color: #0b4f8a; }
a.ref:hover, a.refl:hover { text-decoration: underline; }
dl.glossary { max-width: 110ch; margin: 4px 0; }
dl.glossary dt { font-weight: 700; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; margin-top: 6px; }
dl.glossary dd { margin: 2px 0 0 16px; }
dl.glossary dt:target, dl.glossary dt:target + dd { background: #fff4d6; }
`;

function configLine(trace: Trace): string {
  const c = trace.config;
  const doms = c.domains.map((d) => `d${d.id}: ${d.vcpus} vCPU${d.vcpus === 1 ? '' : 's'}, ${d.nr_spis} SPIs${d.pirqs !== undefined && d.pirqs.length > 0 ? `, pirqs ${d.pirqs.join(' ')}` : ''}`);
  return `GIC${c.gic} · ${c.nr_lrs} LR${c.nr_lrs === 1 ? '' : 's'} per pCPU · ${c.pcpus} pCPU${c.pcpus === 1 ? '' : 's'} · ${doms.join(' · ')}`;
}

function summaryLine(run: DumpRun): string {
  const n = run.trace.steps.length;
  const applied = run.steps.length;
  const counts = new Map<string, number>();
  for (const s of run.steps) counts.set(short(s.result['outcome']), (counts.get(short(s.result['outcome'])) ?? 0) + 1);
  const outcomes = [...counts].map(([k, v]) => `${v} ${k}`).join(', ');
  const checked = run.steps.filter((s) => s.expect.status !== 'none').length;
  const failed = run.steps.filter((s) => s.expect.status === 'fail' || s.expect.status === 'error').length;
  const exp = checked === 0 ? 'no expectations' : failed === 0 ? `${checked} expectations met` : `${failed} of ${checked} expectations FAILED`;
  return `${n} step${n === 1 ? '' : 's'}, ${applied === n ? 'all applied' : `${applied} applied`}${outcomes === '' ? '' : ` (${outcomes})`} · ${exp}`;
}

/** Notes under the table: crashes, trace errors, failed expectations, Xen's log lines. */
function notes(run: DumpRun, cite: Citations): string[] {
  const out: string[] = [];
  const link = (i: number): string => `<a href="#s${i}">step ${i}</a>`;
  for (const s of run.steps) {
    if (s.result['outcome'] === 'crash') out.push(`${link(s.index)}: crash: ${cite.text(short(s.result['reason'] ?? ''))} — Xen would fail here; the machine has no state afterwards`);
    for (const l of resultLog(s.result)) out.push(`${link(s.index)}: log ${cite.text(l)}`);
    const x = expectText(s.expect);
    if (x !== null && s.expect.status !== 'pass') out.push(`${link(s.index)}: ${cite.text(x)}`);
  }
  if (run.stopped !== null) out.push(`${link(run.stopped.step)}: trace error: ${cite.text(run.stopped.message)}`);
  return out;
}

/** Render a recorded run as a page. */
export function renderHtml(run: DumpRun, opts: HtmlOptions = {}): E.Either<string, string> {
  const { trace } = run;
  if (opts.step !== undefined) {
    const ok = checkStep(trace, opts.step);
    if (E.isLeft(ok)) return ok;
  }
  const cols: Column[] = [{ kind: 'initial', index: -1, snapshot: run.initial }];
  for (const s of run.steps) cols.push({ kind: 'step', index: s.index, snapshot: s.snapshot, step: s });
  if (run.stopped !== null && run.stopped.step < trace.steps.length && !run.steps.some((s) => s.index === run.stopped!.step)) {
    cols.push({ kind: 'stop', index: run.stopped.step, snapshot: null });
  }
  const snaps = cols.map((c) => c.snapshot).filter((s): s is Snapshot => s !== null);
  const { sections: secs, hidden } = sections(run, snaps);
  // The highlighted column: the step itself, or where the run stopped if it never got there.
  const selIndex = opts.step === undefined ? null
    : run.stopped !== null && opts.step >= run.stopped.step ? run.stopped.step : opts.step;
  const isSel = (c: Column): boolean => selIndex !== null && c.kind !== 'initial' && c.index === selIndex;

  const body: string[] = [];
  for (const sec of secs) {
    body.push(`<tr class="sec"><th class="lbl">${escapeHtml(sec.title)}</th><td colspan="${cols.length}"></td></tr>`);
    for (const row of sec.rows) {
      const cells: string[] = [];
      let prev: Cell | null = null;
      for (const col of cols) {
        const sel = isSel(col) ? ' sel' : '';
        if (col.snapshot === null) {
          cells.push(`<td class="dead${sel}" title="${col.kind === 'stop' ? 'not applied: trace error' : 'no state: Xen crashed at this step'}">—</td>`);
          prev = null;
          continue;
        }
        const cell = row.cell(col.snapshot);
        const changed = prev !== null && prev.key !== cell.key;
        const cls = [cell.cls ?? '', changed ? 'chg' : '', sel.trim()].filter((c) => c !== '').join(' ');
        const title = cell.title ?? '';
        cells.push(`<td${cls === '' ? '' : ` class="${cls}"`}${title === '' ? '' : ` title="${escapeHtml(title)}"`}>${cell.html}</td>`);
        prev = cell;
      }
      const lt = row.labelTitle === undefined ? '' : ` title="${escapeHtml(row.labelTitle)}"`;
      body.push(`<tr${row.cls === undefined ? '' : ` class="${row.cls}"`}><th class="lbl"${lt}>${escapeHtml(row.label)}</th>${cells.join('')}</tr>`);
    }
  }

  const head = `<tr><th class="lbl">step<br>op<br>outcome</th>${cols.map((c) => headerCell(c, run, isSel(c))).join('')}</tr>`;
  const cite = new Citations();
  const refs = trace.refs === undefined || trace.refs.length === 0 ? ''
    : `<div class="meta">refs: ${trace.refs.map((r) => cite.chip(r)).join('')}</div>`;
  const desc = trace.description === undefined ? '' : `<p class="desc">${cite.text(trace.description)}</p>`;
  const stop = run.stopped === null ? ''
    : `<div class="alert">TRACE ERROR at step ${run.stopped.step}: ${cite.text(run.stopped.message)}\nThe run stops there: ${trace.steps.length - run.steps.length} step(s) not applied; the last column before it is the last good state.</div>`;
  const crash = run.steps.find((s) => s.result['outcome'] === 'crash');
  const crashNote = crash === undefined ? ''
    : `<div class="alert">CRASH at step ${crash.index}: ${cite.text(short(crash.result['reason'] ?? ''))}</div>`;
  const noteItems = notes(run, cite);
  const hiddenNote = hidden.length === 0 ? '' : `<div class="meta">${hidden.map(escapeHtml).join(' · ')}</div>`;
  const page = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(trace.name)} — vgic dump</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(trace.name)}</h1>
${desc}
${refs}
<div class="meta">${escapeHtml(configLine(trace))}</div>
<div class="meta">${escapeHtml(summaryLine(run))}</div>
${crashNote}${stop}
<div class="legend">LR state: <span class="sw st-p">P pending</span><span class="sw st-a">A active</span><span class="sw st-pa">P+A pending+active</span>
LR cell: virq, state, priority (hex)<span class="hw" style="margin:0 4px">hw N</span>= HW bit with pirq N ·
<span class="sw" style="box-shadow: inset 0 0 0 2px #e8590c; background:#fff4d6">changed</span>since the previous column ·
inflight: irq@lr (– = no LR) · hover a cell or header for details</div>
${hiddenNote}
<div class="scroll">
<table>
<thead>${head}</thead>
<tbody>
${body.join('\n')}
</tbody>
</table>
</div>
${noteItems.length === 0 ? '' : `<h2 style="font-size:14px;margin:12px 0 4px">Notes</h2>\n<ol class="notes">${noteItems.map((n) => `<li>${n}</li>`).join('')}</ol>`}
${cite.glossary()}
</body>
</html>
`;
  return E.right(page);
}

/** Run `trace` and render it as one self-contained HTML page. */
export function dumpHtml(trace: Trace, opts: HtmlOptions = {}): E.Either<string, string> {
  if (opts.step !== undefined) {
    const ok = checkStep(trace, opts.step);
    if (E.isLeft(ok)) return ok;
  }
  return E.flatMap(collectSteps(trace), (run) => renderHtml(run, opts));
}
