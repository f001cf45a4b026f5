/**
 * `vgic dump --html`: a trace as one self-contained HTML page (inline CSS and script, no
 * external resources). Steps run across as columns, headed by index, op and outcome; down
 * the rows come the step's expectation and checker findings, each pCPU's mode and UIE, then
 * for each vCPU its list registers, lr_pending, inflight list, interface registers and live
 * records; for a domain with a virtual ITS (trace-format §9) also each vCPU's EnableLPIs and
 * PENDBASER and a section with the vLPI records, the ITS registers, the host devices and the
 * domain's LPI configuration. A cell that differs from the previous column is outlined; a failed expectation is
 * marked on the cell it names with expected and actual; a crash column shows the state
 * before the crash. The title, legend and a navigation bar stay fixed above the table; keys
 * and buttons jump to the next change, abort, crash, failed expectation or violation, and a
 * click on an IRQ highlights it everywhere (docs: README, `vgic dump`).
 *
 * The page is written as a stream: columns are rendered one at a time into a spool (rows in
 * memory for a small page, chunks in a temporary file for a large one), so that memory stays
 * bounded by one chunk whatever the number of steps; `from`/`to` render a window of steps.
 * Every reference id the page shows links to a glossary at its end.
 */
import * as E from 'fp-ts/lib/Either.js';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainSnapshot, IrqSnapshot, LrSnapshot, Snapshot, VcpuSnapshot } from '../machine/snapshot.js';
import { isDeviceDomain, type DomainConfig } from '../machine/config.js';
import { XEN_MAX_VCPUS_V3 } from '../vmm/types.js';
import { describeFinding } from '../check/monitor.js';
import type { MutantName } from '../xen/mutants.js';
import { checkStep, expectText, opCompact, resultCompact, resultLog, walkRun, type DumpStep, type TraceStop } from './dump.js';
import { show } from './schema.js';
import type { Trace } from './trace.js';
import { XEN_COMMIT, lookupRef, refAnchor, refKey, refLabel, splitCitations } from './refs.js';
import { LPI_OFFSET } from '../arch/limits.js';
import { GICV3_GICD_SIZE, GICV3_GICR_SIZE, GUEST_GICV3_GICD_BASE, GUEST_GICV3_GICR0_BASE, GUEST_GICV3_GICR0_SIZE } from '../xen/vgic-v3.js';

export interface HtmlOptions {
  /** A step to highlight (its column gets an outline, and the page opens on it). */
  step?: number;
  /** First step to render (default 0); the steps before it are applied, not shown. */
  from?: number;
  /** Last step to render (default: the last step); no step after it is applied. */
  to?: number;
  /** Run the invariant checker and step properties after every step and show what they find. */
  check?: boolean;
  /** A deliberate deviation to run with (tests of the checker display). */
  mutant?: MutantName;
  /** Spool budget in characters before a chunk goes to the temporary file (tests). */
  chunkChars?: number;
}

/** What a written page holds, for the command's messages. */
export interface HtmlReport {
  from: number;
  to: number;
  /** Step columns rendered (the reference column not counted). */
  columns: number;
  stopped: TraceStop | null;
  /** Steps in the window with a checker finding. */
  violations: number;
  /** Steps in the window whose expectation failed. */
  failed: number;
  /** Chunks the spool wrote to its temporary file (0: the page fitted in memory). */
  spilled: number;
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
  /** Names the row for expectation paths: `p0.mode`, `d1v0.lr2`, `d1v0.inflight`, `d1.spis`, `pirq48`. */
  id: string;
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

/**
 * The key an IRQ is highlighted by: SPIs per domain (`d1:137`), SGIs and PPIs per vCPU
 * (`d1v0:27`), since INTID 27 of one vCPU is not that of another.
 */
export function irqKey(dom: number, vcpu: number | null, irq: number): string {
  return irq < 32 && vcpu !== null ? `d${dom}v${vcpu}:${irq}` : `d${dom}:${irq}`;
}

/** An IRQ number that a click highlights. */
function irqSpan(key: string, text: string): string {
  return `<i data-q="${key}">${escapeHtml(text)}</i>`;
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

function lrCell(dom: number, vcpu: number, lr: LrSnapshot | undefined): Cell {
  if (lr === undefined) return EMPTY;
  const hw = lr.pirq === null ? '' : ` <span class="hw">hw ${lr.pirq}</span>`;
  return {
    html: `<b data-q="${irqKey(dom, vcpu, lr.virq)}">${lr.virq}</b> <span class="sx">${STATE_SHORT[lr.state]}</span> <span class="pr">${hex2(lr.priority)}</span>${hw}`,
    key: `${lr.raw}`,
    cls: STATE_CLASS[lr.state],
    title: `LR${lr.lr}: virq ${lr.virq}, ${lr.state}, priority 0x${hex2(lr.priority)}${lr.grp1 ? ', group 1' : ', group 0'}${lr.pirq === null ? '' : `, HW pirq ${lr.pirq}`}; raw ${lr.raw}`,
  };
}

/** The records of a domain by `irq/vcpu`, built once per snapshot. */
const RECORDS = new WeakMap<DomainSnapshot, Map<string, IrqSnapshot>>();

/** The record of `irq` as the vCPU sees it (its private one, or the domain's SPI). */
function recordOf(d: DomainSnapshot, v: VcpuSnapshot, irq: number): IrqSnapshot | undefined {
  let m = RECORDS.get(d);
  if (m === undefined) {
    m = new Map();
    // A vLPI is one record per domain, whichever vCPU it targets now (trace-format §9.3).
    for (const r of d.irqs) m.set(`${r.irq}/${r.irq >= LPI_OFFSET ? '' : r.vcpu ?? ''}`, r);
    RECORDS.set(d, m);
  }
  return m.get(`${irq}/${v.id}`) ?? m.get(`${irq}/`);
}

function listCell(d: DomainSnapshot, v: VcpuSnapshot, items: { irq: number; html: string; text: string }[]): Cell {
  if (items.length === 0) return EMPTY;
  const title = items.map((i) => {
    const r = recordOf(d, v, i.irq);
    return r === undefined ? i.text : `${i.text} prio 0x${hex2(r.priority)} [${r.status.join(' ')}]`;
  }).join('\n');
  return { html: items.map((i) => i.html).join(' '), key: items.map((i) => i.text).join(' '), cls: 'list', title };
}

/**
 * An inflight entry. The record's `lr` is an LR index only while the record is VISIBLE; any
 * other value but 255 is left over (0 before the IRQ was ever in an LR, Q38) and is shown
 * greyed as "stale" rather than like an LR.
 */
function inflightItem(d: DomainSnapshot, v: VcpuSnapshot, e: { irq: number; lr: number }): { irq: number; html: string; text: string } {
  const q = irqSpan(irqKey(d.id, v.id, e.irq), String(e.irq));
  const visible = recordOf(d, v, e.irq)?.status.includes('VISIBLE') === true;
  if (visible || e.lr === 0xff) return { irq: e.irq, html: `${q}@${lrIndex(e.lr)}`, text: `${e.irq}@${lrIndex(e.lr)}` };
  return { irq: e.irq, html: `${q}@<span class="stale">${e.lr} stale</span>`, text: `${e.irq}@${e.lr} (stale lr, not in an LR)` };
}

/**
 * Live records as `irq:flags`; records that are only ENABLED (the common, quiet case) are
 * counted as `+N E` instead of listed, so that a guest enabling many SPIs stays readable.
 */
function recordsCell(dom: number, recs: IrqSnapshot[]): Cell {
  if (recs.length === 0) return EMPTY;
  const flags = (r: IrqSnapshot): string => r.status.map((s) => STATUS_SHORT[s] ?? s).join('');
  const quiet = recs.filter((r) => r.status.length === 1 && r.status[0] === 'ENABLED');
  const busy = recs.filter((r) => !quiet.includes(r));
  const html = [...busy.map((r) => `${irqSpan(irqKey(dom, r.vcpu, r.irq), String(r.irq))}:${flags(r)}`), ...(quiet.length > 0 ? [`+${quiet.length}\u00a0E`] : [])].join(' ');
  const lrText = (r: IrqSnapshot): string => (r.status.includes('VISIBLE') || r.lr === 0xff ? `lr ${lrIndex(r.lr)}` : `lr ${r.lr} (stale: not in an LR)`);
  const title = recs.map((r) => `${r.irq}: [${r.status.join(' ')}] prio 0x${hex2(r.priority)} ${lrText(r)}`).join('\n');
  return { html, key: recs.map((r) => `${r.irq}:${flags(r)}`).join(' '), cls: 'list', title };
}

/**
 * The vLPI records of a domain (trace-format §9.3) as `8192→v1:QE`; records that are only
 * ENABLED are counted as `+N E`, like other records. The tooltip has each one's target,
 * status, cached lpi_priority, captured priority and lr.
 */
function lpiCell(dom: number, recs: IrqSnapshot[]): Cell {
  if (recs.length === 0) return EMPTY;
  const flags = (r: IrqSnapshot): string => r.status.map((s) => STATUS_SHORT[s] ?? s).join('');
  const target = (r: IrqSnapshot): string => (r.vcpu === null ? '–' : `v${r.vcpu}`);
  const quiet = recs.filter((r) => r.status.length === 1 && r.status[0] === 'ENABLED');
  const busy = recs.filter((r) => !quiet.includes(r));
  const html = [
    ...busy.map((r) => `${irqSpan(irqKey(dom, r.vcpu, r.irq), String(r.irq))}→${target(r)}:${flags(r)}`),
    ...(quiet.length > 0 ? [`+${quiet.length}\u00a0E`] : []),
  ].join(' ');
  const title = recs.map((r) => `vLPI ${r.irq} → ${r.vcpu === null ? 'no vCPU' : `vCPU ${r.vcpu}`}: [${r.status.join(' ')}] lpi_priority 0x${hex2(r.lpi_priority ?? 0)} priority 0x${hex2(r.priority)} lr ${lrIndex(r.lr)}`).join('\n');
  return { html, key: recs.map((r) => `${r.irq}>${target(r)}:${flags(r)}/${r.lpi_priority ?? ''}`).join(' '), cls: 'list', title };
}

/** Events listed one by one per device up to this many; more are counted. */
const MAX_EVENTS_LISTED = 4;

/** The host device registry (trace-format §9.3): `dev0: 0→8192 1→8193`, or `dev0: 16/32` when many are mapped. */
function devicesCell(dom: number, devs: { devid: number; eventids: number; vlpis: number[] }[]): Cell {
  if (devs.length === 0) return EMPTY;
  const parts: string[] = [];
  const keys: string[] = [];
  const title: string[] = [];
  for (const dev of devs) {
    const mapped = dev.vlpis.flatMap((vlpi, ev) => (vlpi === 0 ? [] : [{ ev, vlpi }]));
    const list = mapped.map((x) => `${x.ev}→${x.vlpi}`).join(' ');
    keys.push(`${dev.devid}/${dev.eventids}:${list}`);
    title.push(`device ${dev.devid}: ${dev.eventids} events; ${mapped.length === 0 ? 'no event mapped' : `event→vLPI ${list}`}`);
    const body = mapped.length === 0 ? '–'
      : mapped.length <= MAX_EVENTS_LISTED ? mapped.map((x) => `${x.ev}→${irqSpan(irqKey(dom, null, x.vlpi), String(x.vlpi))}`).join(' ')
        : `${mapped.length}/${dev.eventids}`;
    parts.push(`dev${dev.devid}: ${body}`);
  }
  return { html: parts.join('<br>'), key: keys.join(' '), cls: 'list', title: title.join('\n') };
}

/** A text cell. */
function textCell(text: string, title?: string): Cell {
  return { html: escapeHtml(text), key: text, ...(title === undefined ? {} : { title }) };
}

/** The rows of a domain's ITS and LPI state (trace-format §9.3). */
function itsRows(dom: number): Row[] {
  const at = (s: Snapshot): DomainSnapshot | undefined => findDomain(s, dom);
  const row = (id: string, label: string, labelTitle: string, cell: (d: DomainSnapshot) => Cell): Row => ({
    id: `d${dom}.${id}`, label, cls: 'small', labelTitle,
    cell: (s) => {
      const d = at(s);
      return d === undefined ? EMPTY : cell(d);
    },
  });
  return [
    row('lpis', 'vLPIs', 'the mapped vLPIs (pend_lpi_tree): vlpi→vN target vCPU N (– none), then status as for records (Q queued, A active, V visible, E enabled, L pristine LPI); +N E: N more that are only enabled', (d) => lpiCell(dom, d.irqs.filter((r) => r.irq >= LPI_OFFSET))),
    row('its_ctlr', 'GITS_CTLR', 'en/dis: GITS_CTLR.Enabled; Q: Quiescent (CREADR = CWRITER, the command queue is drained)', (d) => {
      if (d.its === undefined) return EMPTY;
      const q = d.its.creadr === d.its.cwriter;
      return textCell(`${d.its.enabled ? 'en' : 'dis'}${q ? ' Q' : ''}`, `GITS_CTLR: Enabled ${d.its.enabled ? 1 : 0}, Quiescent ${q ? 1 : 0}; ITS at ${d.its.base}`);
    }),
    row('its_queue', 'CREADR CWRITER', 'GITS_CREADR and GITS_CWRITER: the command queue offsets Xen has read up to and the guest has written up to', (d) => (d.its === undefined ? EMPTY : textCell(`${d.its.creadr} ${d.its.cwriter}`))),
    row('its_cbaser', 'CBASER', 'GITS_CBASER: the command queue (Valid bit 63, address, size in 4 KiB pages - 1)', (d) => (d.its === undefined ? EMPTY : textCell(d.its.cbaser))),
    row('its_baser0', 'BASER0', 'GITS_BASER0: the device table', (d) => (d.its === undefined ? EMPTY : textCell(d.its.baser0))),
    row('its_baser1', 'BASER1', 'GITS_BASER1: the collection table', (d) => (d.its === undefined ? EMPTY : textCell(d.its.baser1))),
    row('its_devices', 'devices', 'the host device registry: devN: event→vLPI for each mapped event, or mapped/events when there are many; – none mapped', (d) => devicesCell(dom, d.its_devices ?? [])),
    row('lpi_prop', 'PROPBASER', 'GICR_PROPBASER, one value for the whole domain (the LPI property table and IDbits)', (d) => (d.lpi === undefined ? EMPTY : textCell(d.lpi.propbase))),
    row('lpi_state', 'rdists nr_lpis', 'on/off: some redistributor has EnableLPIs (rdists_enabled; PROPBASER is frozen from then on); nr_lpis latched at the first EnableLPIs', (d) => (d.lpi === undefined ? EMPTY : textCell(`${d.lpi.rdists_enabled ? 'on' : 'off'} ${d.lpi.nr_lpis}`))),
  ];
}

/** Which LRs, vCPUs a window of states uses (to leave out the never-used ones of a large config). */
interface Usage {
  lrs: Set<number>;
  /** `dom/vcpu` */
  vcpus: Set<string>;
}

function noteUsage(u: Usage, s: Snapshot): void {
  for (const d of s.domains) {
    for (const v of d.vcpus) {
      for (const lr of v.lrs) u.lrs.add(lr.lr);
      if (v.lrs.length > 0 || v.inflight.length > 0 || v.lr_pending.length > 0 || !v.online || v.apr !== '0x0') u.vcpus.add(`${d.id}/${v.id}`);
    }
    for (const r of d.irqs) if (r.vcpu !== null) u.vcpus.add(`${d.id}/${r.vcpu}`);
  }
  for (const c of s.pcpus) if (c.running !== null) u.vcpus.add(`${c.running.domain}/${c.running.vcpu}`);
}

const MAX_LRS_ALL = 16;
const MAX_VCPUS_ALL = 8;

/**
 * The vCPUs a domain may have: its `vcpus`, or for a device domain (whose vCPUs the trace
 * creates, trace-format §10) Xen's limit, of which only those holding state are shown.
 */
function configVcpus(d: DomainConfig): number {
  return isDeviceDomain(d) ? XEN_MAX_VCPUS_V3 : d.vcpus;
}

/**
 * Every domain the trace can have (trace-format §3.6): the config's, then those `domain_create`
 * steps add, one entry per id (an id created several times: the most vCPUs, every pirq, an
 * ITS if any entry has one, a device domain if any entry is one). Cells of a domain that does
 * not exist at a step are empty.
 */
function domainsOf(trace: Trace): DomainConfig[] {
  const out = new Map<number, DomainConfig>();
  const add = (d: DomainConfig): void => {
    const seen = out.get(d.id);
    if (seen === undefined) {
      out.set(d.id, d);
      return;
    }
    const pirqs = [...new Set([...(seen.pirqs ?? []), ...(d.pirqs ?? [])])];
    if (isDeviceDomain(seen) || isDeviceDomain(d)) {
      const dev = isDeviceDomain(seen) ? seen : d;
      out.set(d.id, { ...dev, ...(pirqs.length > 0 ? { pirqs } : {}) } as DomainConfig);
      return;
    }
    out.set(d.id, { ...seen, vcpus: Math.max(seen.vcpus, d.vcpus), ...(pirqs.length > 0 ? { pirqs } : {}), ...(seen.its ?? d.its ? { its: seen.its ?? d.its } : {}) });
  };
  for (const d of trace.config.domains) add(d);
  for (const s of trace.steps) if (s.op.op === 'domain_create') add(s.op.domain as DomainConfig);
  return [...out.values()];
}

/** Does the config need a look at the states to choose its rows? */
function needsUsage(trace: Trace): boolean {
  return trace.config.nr_lrs > MAX_LRS_ALL || domainsOf(trace).some((d) => configVcpus(d) > MAX_VCPUS_ALL);
}

/** The rows of the page, from the config (and, for a large one, the states the window goes through). */
function sections(trace: Trace, usage: Usage | null): { sections: Section[]; hidden: string[] } {
  const cfg = trace.config;
  const out: Section[] = [];
  const hidden: string[] = [];
  const pcpuRows: Row[] = [];
  for (let p = 0; p < cfg.pcpus; p++) {
    pcpuRows.push({
      id: `p${p}.mode`,
      label: `pCPU${p} mode`,
      labelTitle: 'idle, hyp (in Xen) or guest, and the vCPU it runs',
      cell: (s) => {
        const c = s.pcpus.find((x) => x.id === p);
        if (c === undefined) return EMPTY;
        const who = c.running === null ? '' : ` d${c.running.domain}v${c.running.vcpu}`;
        const text = `${c.mode}${who}`;
        return { html: escapeHtml(text), key: text, cls: `mode-${c.mode}` };
      },
    });
    pcpuRows.push({
      id: `p${p}.uie`,
      label: `pCPU${p} UIE`,
      labelTitle: 'HCR.UIE: the underflow maintenance interrupt is requested',
      cell: (s) => (s.pcpus.find((x) => x.id === p)?.uie === true ? { html: 'UIE', key: 'UIE', cls: 'uie', title: 'HCR.UIE set: underflow maintenance interrupt enabled' } : EMPTY),
    });
  }
  out.push({ title: 'physical CPUs', rows: pcpuRows });

  // Show every LR of a small LR file; of a large one only those that are ever used.
  const lrList = Array.from({ length: cfg.nr_lrs }, (_, i) => i).filter((i) => cfg.nr_lrs <= MAX_LRS_ALL || usage === null || usage.lrs.has(i));
  if (lrList.length < cfg.nr_lrs) hidden.push(`${cfg.nr_lrs - lrList.length} of ${cfg.nr_lrs} LRs are never used and not shown`);

  const allDomains = domainsOf(trace);
  for (const dc of allDomains) {
    const shown: number[] = [];
    const nVcpus = configVcpus(dc);
    for (let id = 0; id < nVcpus; id++) if (nVcpus <= MAX_VCPUS_ALL || usage === null || usage.vcpus.has(`${dc.id}/${id}`)) shown.push(id);
    if (shown.length < nVcpus && !isDeviceDomain(dc)) hidden.push(`d${dc.id}: ${nVcpus - shown.length} of ${nVcpus} vCPUs hold no state throughout and are not shown`);
    for (const id of shown) {
      const rows: Row[] = [];
      const at = (s: Snapshot): { d: DomainSnapshot; v: VcpuSnapshot } | undefined => {
        const d = findDomain(s, dc.id);
        const v = findVcpu(s, dc.id, id);
        return d === undefined || v === undefined ? undefined : { d, v };
      };
      const base = `d${dc.id}v${id}`;
      for (const i of lrList) {
        rows.push({ id: `${base}.lr${i}`, label: `LR${i}`, cls: 'lrrow', cell: (s) => lrCell(dc.id, id, at(s)?.v.lrs.find((l) => l.lr === i)) });
      }
      rows.push({
        id: `${base}.lr_pending`,
        label: 'lr_pending',
        labelTitle: 'IRQs waiting for a free LR, in list order (priority order)',
        cell: (s) => {
          const x = at(s);
          return x === undefined ? EMPTY : listCell(x.d, x.v, x.v.lr_pending.map((irq) => ({ irq, html: irqSpan(irqKey(dc.id, id, irq), String(irq)), text: String(irq) })));
        },
      });
      rows.push({
        id: `${base}.inflight`,
        label: 'inflight',
        labelTitle: 'inflight_irqs in list order, as irq@lr (– is no LR, 255); "N stale": the record is not in an LR and its lr field is left over (Q38)',
        cell: (s) => {
          const x = at(s);
          return x === undefined ? EMPTY : listCell(x.d, x.v, x.v.inflight.map((e) => inflightItem(x.d, x.v, e)));
        },
      });
      rows.push({
        id: `${base}.lr_mask`,
        label: 'lr_mask',
        cls: 'small',
        labelTitle: 'the LRs in use on the pCPU that runs this vCPU (one bit per LR)',
        cell: (s) => {
          const v = at(s)?.v;
          return v === undefined ? EMPTY : { html: escapeHtml(v.lr_mask), key: v.lr_mask };
        },
      });
      rows.push({
        id: `${base}.regs`,
        label: 'pmr eoi apr',
        cls: 'small',
        labelTitle: 'guest priority mask (hex), EOI mode, active-priority bits; OFF: vCPU offline',
        cell: (s) => {
          const v = at(s)?.v;
          if (v === undefined) return EMPTY;
          const text = `${hex2(v.pmr)} ${v.eoimode} ${v.apr}${v.online ? '' : ' OFF'}`;
          return { html: escapeHtml(text), key: text, title: `pmr 0x${hex2(v.pmr)}, eoimode ${v.eoimode}, apr ${v.apr}${v.online ? '' : ', vCPU offline'}` };
        },
      });
      rows.push({
        id: `${base}.records`,
        label: 'records',
        cls: 'small',
        labelTitle: 'live private pending_irq records: irq:status (Q queued, A active, V visible, E enabled, M migrating, L pristine LPI); +N E: N more that are only enabled',
        cell: (s) => {
          const x = at(s);
          return x === undefined ? EMPTY : recordsCell(dc.id, x.d.irqs.filter((r) => r.vcpu === id && r.irq < LPI_OFFSET));
        },
      });
      if (dc.its !== undefined) {
        rows.push({
          id: `${base}.lpi`,
          label: 'LPIs pendbase',
          cls: 'small',
          labelTitle: 'the redistributor\'s GICR_CTLR.EnableLPIs (on/off) and GICR_PENDBASER as the guest reads it',
          cell: (s) => {
            const v = at(s)?.v;
            if (v === undefined || v.lpis_enabled === undefined) return EMPTY;
            const text = `${v.lpis_enabled ? 'on' : 'off'} ${v.pendbase ?? ''}`;
            return { html: escapeHtml(text), key: text, title: `EnableLPIs ${v.lpis_enabled ? 1 : 0}, GICR_PENDBASER ${v.pendbase ?? '?'}` };
          },
        });
      }
      out.push({ title: base, rows });
    }
    out.push({
      title: `d${dc.id} SPIs`,
      rows: [{
        id: `d${dc.id}.spis`,
        label: 'records',
        cls: 'small',
        labelTitle: 'live SPI pending_irq records: irq:status (Q queued, A active, V visible, E enabled, M migrating); +N E: N more that are only enabled',
        cell: (s) => {
          const d = findDomain(s, dc.id);
          return d === undefined ? EMPTY : recordsCell(dc.id, d.irqs.filter((r) => r.vcpu === null && r.irq < LPI_OFFSET));
        },
      }],
    });
    if (dc.its !== undefined) out.push({ title: `d${dc.id} ITS and LPIs`, rows: itsRows(dc.id) });
  }

  // A row for every host IRQ the config hands to a domain (empty until it is routed).
  const pirqs = [...new Set(allDomains.flatMap((d) => d.pirqs ?? []))].sort((a, b) => a - b);
  if (pirqs.length > 0) {
    out.push({
      title: 'routed host IRQs',
      rows: pirqs.map((pirq) => ({
        id: `pirq${pirq}`,
        label: `pirq ${pirq}`,
        cls: 'small',
        labelTitle: 'dD:virq the domain and vIRQ it is routed to; en/dis enabled or disabled; P pending, A active, IP in progress (physically); @N affinity pCPU N',
        cell: (s: Snapshot): Cell => {
          const p = s.physical.find((x) => x.pirq === pirq);
          if (p === undefined) return EMPTY;
          const flags = [p.enabled ? 'en' : 'dis', p.pending ? 'P' : '', p.active ? 'A' : '', p.in_progress ? 'IP' : ''].filter((f) => f !== '');
          const text = `d${p.domain}:${p.virq} ${flags.join(' ')} @${p.affinity}`;
          return {
            html: `${irqSpan(irqKey(p.domain, null, p.virq), `d${p.domain}:${p.virq}`)} ${escapeHtml(`${flags.join(' ')} @${p.affinity}`)}`,
            key: text,
            title: `pirq ${pirq} -> d${p.domain} virq ${p.virq}: ${p.enabled ? 'enabled' : 'disabled'}, pending ${p.pending}, active ${p.active}, in progress ${p.in_progress}, affinity pCPU${p.affinity}`,
          };
        },
      })),
    });
  }
  return { sections: out, hidden };
}

/**
 * The rows a failed expectation's JSON path names (trace-format §6:
 * `snapshot.domains[id=1].vcpus[id=0].lrs[1].virq`), as a test on row ids; `actual` is the
 * state the step left (to find which LR `lrs[k]` is). Paths into the RESULT or into state
 * the page has no row for name no cell: the column is marked instead.
 */
export function expectRows(path: string, actual: Snapshot | null): (id: string) => boolean {
  let m = /^snapshot\.pcpus\[id=(\d+)\](?:\.(\w+))?/.exec(path);
  if (m !== null) {
    const id = `p${m[1]!}.${m[2] === 'uie' ? 'uie' : 'mode'}`;
    return (r) => r === id;
  }
  m = /^snapshot\.domains\[id=(\d+)\]\.vcpus\[id=(\d+)\](?:\.(\w+)(?:\[(\d+)\])?)?/.exec(path);
  if (m !== null) {
    const base = `d${m[1]!}v${m[2]!}.`;
    const field = m[3];
    if (field === undefined) return (r) => r.startsWith(base);
    if (field === 'lrs') {
      const k = m[4];
      const lr = k === undefined || actual === null ? undefined : findVcpu(actual, Number(m[1]), Number(m[2]))?.lrs[Number(k)]?.lr;
      return lr === undefined ? (r) => r.startsWith(`${base}lr`) && /\.lr\d+$/.test(r) : (r) => r === `${base}lr${lr}`;
    }
    const row = field === 'inflight' || field === 'lr_pending' || field === 'lr_mask' ? field
      : field === 'pmr' || field === 'eoimode' || field === 'apr' || field === 'online' ? 'regs'
        : field === 'lpis_enabled' || field === 'pendbase' ? 'lpi' : null;
    return row === null ? () => false : (r) => r === `${base}${row}`;
  }
  m = /^snapshot\.domains\[id=(\d+)\]\.irqs(?:\[irq=(\d+),vcpu=(null|\d+)\])?/.exec(path);
  if (m !== null) {
    const d = m[1]!;
    if (m[2] === undefined) return (r) => r === `d${d}.spis` || r === `d${d}.lpis` || (r.startsWith(`d${d}v`) && r.endsWith('.records'));
    if (Number(m[2]) >= LPI_OFFSET) return (r) => r === `d${d}.lpis`;
    return m[3] === 'null' ? (r) => r === `d${d}.spis` : (r) => r === `d${d}v${m![3]!}.records`;
  }
  m = /^snapshot\.domains\[id=(\d+)\]\.(its_devices|its|lpi)(?:\.(\w+))?/.exec(path);
  if (m !== null) {
    const d = m[1]!;
    const f = m[3];
    const ids = m[2] === 'its_devices' ? ['its_devices']
      : m[2] === 'lpi' ? (f === undefined ? ['lpi_prop', 'lpi_state'] : [f === 'propbase' ? 'lpi_prop' : 'lpi_state'])
        : f === undefined ? ['its_ctlr', 'its_queue', 'its_cbaser', 'its_baser0', 'its_baser1']
          : [f === 'enabled' ? 'its_ctlr' : f === 'creadr' || f === 'cwriter' ? 'its_queue' : f === 'cbaser' ? 'its_cbaser' : f === 'baser0' ? 'its_baser0' : f === 'baser1' ? 'its_baser1' : 'its_ctlr'];
    return (r) => ids.some((x) => r === `d${d}.${x}`);
  }
  m = /^snapshot\.physical\[pirq=(\d+)\]/.exec(path);
  if (m !== null) {
    const id = `pirq${m[1]!}`;
    return (r) => r === id;
  }
  return () => false;
}

// ----- columns -----

function short(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? '';
}

/**
 * A guest physical address as its frame and offset: `GICD+0x420`, `GICR1+0x10100` (vCPU 1's
 * redistributor frame, trace-format §3.3), `GITS+0x88` (an ITS region starting at one of
 * `itsBases`, trace-format §9.2: the control frame, then the translation frame at +0x10000);
 * anything else as written.
 */
export function mmioWhere(addr: unknown, itsBases: readonly number[] = []): string {
  if (typeof addr !== 'string' || !/^0[xX][0-9a-fA-F]+$/.test(addr)) return short(addr);
  const a = Number(BigInt(addr));
  for (const b of itsBases) if (a >= b && a < b + 0x20000) return `GITS+0x${(a - b).toString(16)}`;
  if (a >= GUEST_GICV3_GICD_BASE && a < GUEST_GICV3_GICD_BASE + GICV3_GICD_SIZE) return `GICD+0x${(a - GUEST_GICV3_GICD_BASE).toString(16)}`;
  if (a >= GUEST_GICV3_GICR0_BASE && a < GUEST_GICV3_GICR0_BASE + GUEST_GICV3_GICR0_SIZE) {
    const off = a - GUEST_GICV3_GICR0_BASE;
    return `GICR${Math.floor(off / GICV3_GICR_SIZE)}+0x${(off % GICV3_GICR_SIZE).toString(16)}`;
  }
  return addr;
}

/** The arguments of an op, shortened for a column header (the full op is in the tooltip). */
export function opArgs(op: Record<string, unknown>, itsBases: readonly number[] = []): string {
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
    const where = 'addr' in rest ? mmioWhere(rest['addr'], itsBases) + ('size' in rest ? `/${short(rest['size'])}` : '') : short(rest['reg'] ?? '');
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

const NAV_ABORT = new Set(['abort', 'undef', 'error']);

/** The header of a step's column; `cls` adds the navigation classes found while rendering it. */
function stepHeader(st: DumpStep, extraCls: string[], crashState: string | null, itsBases: readonly number[], msiQ: string | null): string {
  const outcome = short(st.result['outcome']);
  const cls = ['col', `out-${outcome}`, ...extraCls];
  if (st.expect.status === 'fail' || st.expect.status === 'error') cls.push('exp-fail');
  if (NAV_ABORT.has(outcome)) cls.push('nav-abort');
  if (outcome === 'crash') cls.push('nav-crash');
  if (st.findings !== undefined && st.findings.length > 0) cls.push('viol');
  const tip = [`step ${st.index}: ${opCompact(st.op)}`, `-> ${resultCompact(st.result)}`, ...resultLog(st.result).map((l) => `log ${l}`), expectText(st.expect) ?? ''].filter((l) => l !== '').join('\n');
  const mark = st.expect.status === 'pass' ? '<span class="xp" title="expectation met">✓</span>'
    : st.expect.status === 'none' ? '' : '<span class="xf">expect ✗</span>';
  const viol = st.findings !== undefined && st.findings.length > 0 ? ` <span class="vf">${escapeHtml(st.findings.map((f) => f.id).join(' '))}</span>` : '';
  const extras = resultExtras(st.result);
  const dom = st.op['domain'];
  const virq = st.op['virq'];
  const q = typeof dom === 'number' && typeof virq === 'number' ? ` data-q="${irqKey(dom, typeof st.op['vcpu'] === 'number' ? st.op['vcpu'] : null, virq)}"`
    : msiQ !== null ? ` data-q="${msiQ}"` : '';
  const why = outcome === 'crash'
    ? `<div class="why">${escapeHtml(short(st.result['reason'] ?? ''))}</div><div class="prenote">${escapeHtml(crashState ?? 'no state to show')}</div>` : '';
  return `<th class="${cls.join(' ')}" id="s${st.index}" title="${escapeHtml(tip)}"${q}>`
    + `<div class="idx">${st.index}</div><div class="opn">${escapeHtml(short(st.op['op']))}</div>`
    + `<div class="args">${escapeHtml(opArgs(st.op, itsBases))}</div>`
    + `<div class="out"><span class="badge">${escapeHtml(outcome)}</span>${extras === '' ? '' : ` <span class="ex">${escapeHtml(extras)}</span>`}${mark}${viol}</div>${why}</th>`;
}

function stopHeader(trace: Trace, stop: TraceStop, sel: boolean): string {
  const itsBases = itsBasesOf(trace);
  const raw = trace.steps[stop.step]?.raw;
  const op = raw === undefined ? null : Object.fromEntries(Object.entries(raw).filter(([k]) => k !== 'expect'));
  return `<th class="col out-stop nav-crash${sel ? ' sel' : ''}" id="s${stop.step}" title="${escapeHtml(`${op === null ? '' : `${opCompact(op)}\n`}${stop.message}`)}">`
    + `<div class="idx">${stop.step}</div><div class="opn">${escapeHtml(stop.op ?? '')}</div>`
    + `<div class="args">${op === null ? '' : escapeHtml(opArgs(op, itsBases))}</div><div class="out"><span class="badge">trace error</span></div></th>`;
}

// ----- page -----

const CSS = `
:root { --line: #d0d4da; --muted: #5f6b7a; }
* { box-sizing: border-box; }
html, body { height: 100%; }
body { margin: 0; display: flex; flex-direction: column; overflow: hidden; font: 13px/1.35 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430; background: #fafbfc; }
header.top { position: sticky; top: 0; z-index: 5; flex: none; max-height: 48vh; overflow: auto; padding: 8px 16px 4px; background: #fafbfc; border-bottom: 2px solid var(--line); }
main#main { flex: 1 1 auto; overflow: auto; padding: 0 16px 12px 0; }
h1 { font-size: 18px; margin: 0 0 4px; font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
.desc { margin: 2px 0 6px; max-width: 110ch; white-space: pre-wrap; }
.meta { color: var(--muted); margin: 2px 0; }
.ref { display: inline-block; padding: 0 6px; margin-right: 4px; border: 1px solid var(--line); border-radius: 8px; background: #fff; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; color: #1d2430; }
.alert { margin: 6px 0; padding: 6px 10px; border-left: 4px solid #b42318; background: #fdecea; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; white-space: pre-wrap; }
nav.bar { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; margin: 4px 0; font-size: 12px; }
nav.bar .grp { white-space: nowrap; }
nav.bar button { font: inherit; padding: 0 6px; cursor: pointer; border: 1px solid var(--line); background: #fff; border-radius: 3px; }
nav.bar kbd { font-family: ui-monospace, "DejaVu Sans Mono", monospace; border: 1px solid var(--line); border-radius: 3px; padding: 0 3px; background: #f3f5f8; }
#pos { color: #0b4f8a; font-weight: 600; }
#msg { color: #8a1c12; }
details.legend { margin: 2px 0 4px; color: #3d4653; font-size: 12px; }
details.legend summary { cursor: pointer; color: var(--muted); }
details.legend dl { display: grid; grid-template-columns: max-content minmax(0, 1fr) max-content minmax(0, 1fr); gap: 1px 10px; margin: 4px 0; }
@media (max-width: 1100px) { details.legend dl { grid-template-columns: max-content minmax(0, 1fr); } }
details.legend dt { font-family: ui-monospace, "DejaVu Sans Mono", monospace; white-space: nowrap; }
details.legend dd { margin: 0; }
.sw { display: inline-block; padding: 0 6px; margin: 0 2px; border: 1px solid var(--line); color: #1d2430; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
table { border-collapse: separate; border-spacing: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; background: #fff; }
th, td { border-right: 1px solid var(--line); border-bottom: 1px solid var(--line); padding: 2px 5px; vertical-align: top; }
td { min-width: 64px; max-width: 150px; white-space: nowrap; }
td.list { white-space: normal; word-break: break-word; }
thead th { position: sticky; top: 0; z-index: 2; background: #eef1f5; font-weight: normal; text-align: left; min-width: 64px; max-width: 170px; }
th.lbl { position: sticky; left: 0; z-index: 1; background: #f3f5f8; text-align: left; font-weight: 600; white-space: nowrap; min-width: 110px; }
thead th.lbl { z-index: 3; background: #e3e7ed; vertical-align: bottom; }
th.col { scroll-margin-left: 140px; }
th.col .idx { font-weight: 700; }
th.col .opn { font-weight: 700; color: #0b4f8a; }
th.col .args { color: var(--muted); font-size: 11px; white-space: normal; overflow-wrap: anywhere; }
th.col .out { margin-top: 2px; font-size: 11px; }
th.col .ex { color: #1d2430; }
th.col .why { margin-top: 2px; font-size: 11px; white-space: normal; color: #8a1c12; font-weight: 600; }
th.col .prenote { font-size: 10px; white-space: normal; color: var(--muted); }
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
th.viol { border-top: 3px solid #7a1fa2; }
.xp { color: #3c7a3a; margin-left: 4px; }
.xf { color: #b42318; font-weight: 700; margin-left: 4px; }
.vf { color: #fff; background: #7a1fa2; border-radius: 3px; padding: 0 3px; font-weight: 700; }
th.init { background: #e9ecf1; color: var(--muted); }
tr.sec th, tr.sec td { background: #2f3b4c; color: #fff; font-weight: 700; border-right: none; padding-top: 3px; padding-bottom: 3px; }
tr.sec th.lbl { background: #2f3b4c; }
tr.small td { font-size: 11px; color: #3d4653; }
tr.lrrow td { text-align: left; }
tr.detail td { white-space: normal; font-size: 11px; }
td.xok { color: #3c7a3a; }
td.xfail { background: #fdecea; color: #8a1c12; font-weight: 600; }
td.viol { background: #f3e5f8; color: #4a0f66; }
td.viol b { color: #7a1fa2; }
td.xbad { box-shadow: inset 0 0 0 2px #b42318; }
.xv { display: block; margin-top: 2px; padding: 1px 3px; white-space: normal; background: #b42318; color: #fff; font-size: 10px; font-weight: 600; }
.st-p { background: #ffe7a3; }
.st-a { background: #b9d7ff; }
.st-pa { background: #dcc2f7; }
.sx { font-size: 10px; font-weight: 700; }
.pr { color: #5f4b00; font-size: 11px; }
.st-a .pr, .st-pa .pr { color: #27365c; }
.hw { display: inline-block; padding: 0 3px; border-radius: 3px; background: #1d2430; color: #fff; font-size: 10px; }
.stale { color: #9aa3ae; font-style: italic; }
i[data-q], b[data-q] { font-style: normal; cursor: pointer; }
i[data-q]:hover, b[data-q]:hover { text-decoration: underline; }
.hl { background: #ffef5c !important; color: #000 !important; outline: 2px solid #d4a000; }
.hlc { box-shadow: inset 0 0 0 2px #d4a000; }
.mode-guest { background: #d9f2d9; }
.mode-hyp { background: #e4e8ff; }
.mode-idle { color: #9aa3ae; }
.uie { background: #ffd6e7; font-weight: 700; color: #8a1150; }
td.chg { box-shadow: inset 0 0 0 2px #e8590c; }
td.chg:not(.st-p):not(.st-a):not(.st-pa):not(.uie):not(.mode-guest):not(.mode-hyp) { background-color: #fff4d6; }
td.dead { background: repeating-linear-gradient(135deg, #f1f1f1 0 4px, #fafafa 4px 8px); color: #9aa3ae; text-align: center; }
td.pre { opacity: 0.55; background-image: repeating-linear-gradient(135deg, rgba(180,35,24,0.08) 0 4px, transparent 4px 8px); }
.sel { outline: 2px solid #0b66c3; outline-offset: -2px; }
th.cur { outline: 3px solid #0b66c3; outline-offset: -3px; background: #cfe3ff; }
ol.notes { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; padding-left: 36px; }
ol.notes li { margin: 2px 0; white-space: pre-wrap; }
main h2 { font-size: 14px; margin: 12px 0 4px 16px; }
main .meta, main dl.glossary { margin-left: 16px; }
a { color: #0b66c3; }
a.ref { text-decoration: none; color: #0b4f8a; }
a.ref:hover, a.refl:hover { text-decoration: underline; }
dl.glossary { max-width: 110ch; margin: 4px 0; }
dl.glossary dt { font-weight: 700; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; margin-top: 6px; }
dl.glossary dd { margin: 2px 0 0 16px; }
dl.glossary dt:target, dl.glossary dt:target + dd { background: #fff4d6; }
`;

/** The navigation kinds: key, header class, name. Upper case goes backwards. */
const NAV: readonly { key: string; cls: string; name: string }[] = [
  { key: 'n', cls: 'has-chg', name: 'change' },
  { key: 'a', cls: 'nav-abort', name: 'abort' },
  { key: 'c', cls: 'nav-crash', name: 'crash' },
  { key: 'f', cls: 'exp-fail', name: 'failed expectation' },
  { key: 'v', cls: 'viol', name: 'violation' },
];

/**
 * The page's own script: navigation by keys and buttons, IRQ highlighting by click, and the
 * URL hash `#sK&irq=d1:137&key=n,a` applied on load (so that a headless browser's DOM shows
 * the result of a scripted action).
 */
const SCRIPT = `(function () {
  var NAV = ${JSON.stringify(Object.fromEntries(NAV.map((n) => [n.key, [n.cls, n.name]])))};
  var cols = Array.prototype.slice.call(document.querySelectorAll('thead th.col'));
  var body = document.body, cur = -1, irq = null;
  var pos = document.getElementById('pos'), msg = document.getElementById('msg');
  function stepOf(th) { return th.id ? th.id.slice(1) : ''; }
  function say(t) { msg.textContent = t; }
  function show() {
    var th = cols[cur];
    var where = th ? (stepOf(th) === '' ? 'reference column' : 'step ' + stepOf(th)) : 'no column';
    pos.textContent = where + (irq ? ' \\u00b7 IRQ ' + irq + ' highlighted (' + document.querySelectorAll('.hl').length + ')' : '');
  }
  function go(i, scroll) {
    if (i < 0 || i >= cols.length) return;
    if (cur >= 0) cols[cur].classList.remove('cur');
    cur = i;
    cols[i].classList.add('cur');
    body.setAttribute('data-cur', stepOf(cols[i]));
    if (scroll) cols[i].scrollIntoView({ block: 'nearest', inline: 'center' });
    if (stepOf(cols[i]) !== '' && history.replaceState) history.replaceState(null, '', '#s' + stepOf(cols[i]));
    show();
  }
  function nav(k) {
    var lower = k.toLowerCase(), kind = NAV[lower];
    if (!kind) return false;
    var dir = k === lower ? 1 : -1;
    for (var i = cur + dir; i >= 0 && i < cols.length; i += dir) {
      if (cols[i].classList.contains(kind[0])) { say(''); go(i, true); return true; }
    }
    say('no ' + kind[1] + (dir > 0 ? ' after' : ' before') + ' this column');
    return true;
  }
  function highlight(q) {
    var old = document.querySelectorAll('.hl, .hlc');
    for (var i = 0; i < old.length; i++) old[i].classList.remove('hl', 'hlc');
    irq = q;
    if (q) {
      var all = document.querySelectorAll('[data-q="' + q + '"]');
      for (var j = 0; j < all.length; j++) {
        all[j].classList.add('hl');
        var cell = all[j].closest('td');
        if (cell) cell.classList.add('hlc');
      }
      body.setAttribute('data-irq', q);
    } else body.removeAttribute('data-irq');
    show();
  }
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'Escape') { highlight(null); say(''); e.preventDefault(); return; }
    if (nav(e.key)) e.preventDefault();
  });
  document.addEventListener('click', function (e) {
    var b = e.target.closest('button[data-k]');
    if (b) { nav(b.getAttribute('data-k')); return; }
    var t = e.target.closest('[data-q]');
    if (t) { var q = t.getAttribute('data-q'); highlight(q === irq ? null : q); return; }
    var th = e.target.closest('thead th.col');
    if (th) go(cols.indexOf(th), false);
  });
  var sel = document.querySelector('thead th.sel');
  var start = sel ? cols.indexOf(sel) : -1;
  var keys = [];
  var parts = location.hash.slice(1).split('&');
  for (var p = 0; p < parts.length; p++) {
    var kv = decodeURIComponent(parts[p]);
    var m = /^s(\\d+)$/.exec(kv);
    if (m) { var t = document.getElementById('s' + m[1]); if (t) start = cols.indexOf(t); }
    else if (/^irq=d\\d+(v\\d+)?:\\d+$/.test(kv)) highlight(kv.slice(4));
    else if (/^key=[nacfvNACFV,]+$/.test(kv)) keys = kv.slice(4).split(',');
  }
  if (start >= 0) go(start, true); else show();
  for (var k = 0; k < keys.length; k++) nav(keys[k]);
})();`;

/** Legend entries for a page with a virtual ITS (trace-format §9). */
const ITS_LEGEND: [string, string][] = [
  ['vLPIs 8192→v1:QE', 'vLPI 8192 (a mapped LPI of pend_lpi_tree) targets vCPU 1 (→– no vCPU), status as for records (L pristine LPI: mapped, never in an LR); <code>+3 E</code>: 3 more vLPIs that are only enabled; the tooltip gives lpi_priority (cached from the property table) and priority. A click highlights a vLPI per domain (d1:8192).'],
  ['LPIs pendbase on 0x0', 'per vCPU: GICR_CTLR.EnableLPIs on/off and GICR_PENDBASER as read.'],
  ['GITS_CTLR en Q', 'the ITS is enabled (dis: disabled); Q Quiescent: CREADR = CWRITER. CREADR CWRITER, CBASER, BASER0 (devices), BASER1 (collections): the ITS registers.'],
  ['devices dev0: 0→8192', 'host device 0: event 0 forwards to vLPI 8192 (– none mapped); <code>dev0: 16/32</code> 16 of its 32 events mapped (listed in the tooltip).'],
  ['PROPBASER, rdists nr_lpis on 57344', 'the domain\'s GICR_PROPBASER; on: LPIs enabled on some redistributor (rdists_enabled), nr_lpis latched then.'],
  ['<code>GITS+0x88</code>, msi', 'a header\'s access to the ITS region (control frame, translation frame from +0x10000); an msi step\'s header highlights the vLPI its event is mapped to.'],
];

function legend(its: boolean): string {
  const keys = NAV.map((n) => `<kbd>${n.key}</kbd>/<kbd>${n.key.toUpperCase()}</kbd> ${escapeHtml(n.name)}`).join(', ');
  const items: [string, string][] = [
    ['keys', `${keys}: next / previous column with one (also the buttons above); <kbd>Esc</kbd> clears the IRQ highlight. A click on a column header makes it the current column.`],
    ['click an IRQ', 'highlights that INTID in every row and step (SPIs per domain, d1:137; SGIs/PPIs per vCPU, d1v0:27); a second click or Esc clears it.'],
    ['URL', '<code>#s12</code> opens on step 12; <code>#s12&amp;irq=d1:137&amp;key=n,f</code> also highlights IRQ d1:137, then presses n and f.'],
    ['<span class="sw st-p">40 P a0</span>', 'LR cell: vIRQ 40, state P pending, A active, P+A pending and active, priority 0xa0 (hex); <span class="hw">hw 48</span> the HW bit with physical IRQ 48.'],
    ['<span class="sw" style="box-shadow: inset 0 0 0 2px #e8590c; background:#fff4d6">changed</span>', 'the cell differs from the previous column; a header with a change in its column is a stop for n.'],
    ['lr_pending', 'IRQs waiting for a free LR, in list (priority) order.'],
    ['inflight 42@1', 'IRQ 42 is inflight and held by LR1; 40@– no LR (lr 255); <span class="stale">0 stale</span>: the record is not in an LR and its lr field is left over (0 before the IRQ was ever in an LR, Q38): not an LR index.'],
    ['lr_mask', 'the LRs in use, one bit per LR.'],
    ['pmr eoi apr', 'guest priority mask (hex), EOI mode (0/1), active-priority bits; OFF the vCPU is offline.'],
    ['records 40:VE', 'a live pending_irq record and its status: Q queued, A active, V visible (in an LR), E enabled, M migrating, L pristine LPI; so VE = visible and enabled, QE = queued and enabled. <code>+3 E</code>: 3 more records that are only enabled.'],
    ['pCPU mode, UIE', 'idle, hyp (in Xen) or guest, with the vCPU it runs (d1v0); UIE: the underflow maintenance interrupt is requested.'],
    ['pirq 48: d1:48 dis @0', 'host IRQ 48 routed to domain 1 vIRQ 48; en/dis enabled or disabled, P pending, A active, IP in progress, @0 affinity pCPU0.'],
    ['header', 'step, op, arguments (p0 pCPU 0, d1v0 domain 1 vCPU 0, <code>W GICD+0x420/1 =0xa0</code> a 1-byte write of 0xa0 at distributor offset 0x420, R a read, GICR1 vCPU 1\'s redistributor frame), then the outcome; ✓ expectation met, <span class="xf">expect ✗</span> failed, <span class="vf">I8</span> checker finding.'],
    ['<span class="sw" style="box-shadow: inset 0 0 0 2px #b42318">cell</span> <span class="xv" style="display:inline">expected</span>', 'a failed expectation on the cell its JSON path names, with expected and actual; the row "expect" gives the path.'],
    ['crash column', 'Xen would crash at this step and the machine has no state after it: the greyed cells repeat the state after the step before, the header gives the reason.'],
    ['<span class="sw" style="background: repeating-linear-gradient(135deg, #f1f1f1 0 4px, #fafafa 4px 8px)">—</span>', 'not applied: a trace error stops the run.'],
    ...(its ? ITS_LEGEND : []),
  ];
  return `<details class="legend" open><summary>legend</summary><dl>${items.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl></details>`;
}

function navBar(): string {
  const grp = NAV.map((n) => `<span class="grp"><button type="button" data-k="${n.key.toUpperCase()}" title="previous ${escapeHtml(n.name)} (${n.key.toUpperCase()})">◀</button> ${escapeHtml(n.name)} <kbd>${n.key}</kbd> <button type="button" data-k="${n.key}" title="next ${escapeHtml(n.name)} (${n.key})">▶</button></span>`);
  return `<nav class="bar">${grp.join('')}<span id="pos"></span><span id="msg"></span></nav>`;
}

/** The ITS regions of the config's domains (trace-format §9.1). */
function itsBasesOf(trace: Trace): number[] {
  return [...new Set(domainsOf(trace).flatMap((d) => (d.its === undefined ? [] : [Number(BigInt(d.its.base))])))];
}

/** The highlight key of the vLPI an `msi` step's event is mapped to in `state`, if any. */
function msiKey(op: Record<string, unknown>, state: Snapshot | null): string | null {
  if (op['op'] !== 'msi' || state === null) return null;
  const dom = op['domain'];
  const d = typeof dom === 'number' ? findDomain(state, dom) : undefined;
  const dev = d?.its_devices?.find((x) => x.devid === op['devid']);
  const ev = op['eventid'];
  const vlpi = dev !== undefined && typeof ev === 'number' ? dev.vlpis[ev] ?? 0 : 0;
  return vlpi === 0 ? null : irqKey(dom as number, null, vlpi);
}

function configLine(trace: Trace): string {
  const c = trace.config;
  const doms = c.domains.map((d) => `d${d.id}: ${d.vcpus} vCPU${d.vcpus === 1 ? '' : 's'}, ${d.nr_spis} SPIs${d.pirqs !== undefined && d.pirqs.length > 0 ? `, pirqs ${d.pirqs.join(' ')}` : ''}${d.its === undefined ? '' : `, ITS at ${d.its.base} (GITS)`}`);
  // Domains created by steps (trace-format §3.6) come after the config's.
  const created = [...new Set(trace.steps.flatMap((s) => (s.op.op === 'domain_create' ? [`d${s.op.domain.id}`] : [])))];
  const more = created.length === 0 ? '' : ` · domain_create: ${created.join(' ')}`;
  return `GIC${c.gic} · ${c.nr_lrs} LR${c.nr_lrs === 1 ? '' : 's'} per pCPU · ${c.pcpus} pCPU${c.pcpus === 1 ? '' : 's'} · ${doms.join(' · ')}${more}`;
}

// ----- streaming -----

/** Where the page goes. */
export interface Sink {
  write(s: string): void;
}

/** Collects the page as a string. */
class StringSink implements Sink {
  readonly parts: string[] = [];
  write(s: string): void {
    this.parts.push(s);
  }
}

/** Writes to an open file descriptor in blocks of about 1 MB. */
class FdSink implements Sink {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly fd: number) {}
  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= 1 << 20) this.flush();
  }
  flush(): void {
    if (this.size === 0) return;
    writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

/**
 * The table's rows while columns arrive: row r's cells are appended column by column. A page
 * is written row by row, so the rows wait here until the last column; past a budget of
 * characters the spool moves its rows to a temporary file as one chunk each and reads them
 * back in order at the end, so memory holds one chunk, not the page.
 */
class Spool {
  private readonly buf: string[];
  private buffered = 0;
  private fd: number | null = null;
  private dir: string | null = null;
  private pos = 0;
  /** Per row: [position, byte length] of each chunk written. */
  private readonly chunks: number[][];
  spilled = 0;

  constructor(rows: number, private readonly budget: number, private readonly spillable: boolean) {
    this.buf = Array.from({ length: rows }, () => '');
    this.chunks = Array.from({ length: rows }, () => []);
  }

  append(row: number, s: string): void {
    this.buf[row] += s;
    this.buffered += s.length;
  }

  /** After each column: spill the rows when the budget is reached. */
  column(): void {
    if (this.spillable && this.buffered >= this.budget) this.spill();
  }

  private spill(): void {
    if (this.fd === null) {
      this.dir = mkdtempSync(join(tmpdir(), 'vgic-dump-'));
      this.fd = openSync(join(this.dir, 'spool'), 'w+');
    }
    for (let r = 0; r < this.buf.length; r++) {
      const s = this.buf[r]!;
      if (s === '') continue;
      const b = Buffer.from(s, 'utf8');
      writeSync(this.fd, b, 0, b.length, this.pos);
      this.chunks[r]!.push(this.pos, b.length);
      this.pos += b.length;
      this.buf[r] = '';
    }
    this.buffered = 0;
    this.spilled += 1;
  }

  /** Row r's cells, in column order. */
  emit(row: number, out: Sink): void {
    if (this.fd !== null) {
      const c = this.chunks[row]!;
      for (let i = 0; i < c.length; i += 2) {
        const b = Buffer.alloc(c[i + 1]!);
        readSync(this.fd, b, 0, b.length, c[i]!);
        out.write(b.toString('utf8'));
      }
    }
    out.write(this.buf[row]!);
  }

  dispose(): void {
    if (this.fd !== null) closeSync(this.fd);
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
    this.fd = null;
    this.dir = null;
  }
}

/** Notes are kept up to this many; the rest are counted. */
const MAX_NOTES = 1000;

function rangeError(trace: Trace, what: string, k: number, lo: number, hi: number): string {
  return `${what} ${k} is out of range: trace "${trace.name}" has ${trace.steps.length} step${trace.steps.length === 1 ? '' : 's'} (valid: ${lo}..${hi})`;
}

/** Check `from`, `to` and `step` against the trace: the window, or Left naming the limits. */
export function checkWindow(trace: Trace, opts: HtmlOptions): E.Either<string, { from: number; to: number }> {
  const n = trace.steps.length;
  if (opts.step !== undefined) {
    const ok = checkStep(trace, opts.step);
    if (E.isLeft(ok)) return ok;
  }
  if (n === 0) {
    if (opts.from !== undefined || opts.to !== undefined) return E.left(`--from/--to: trace "${trace.name}" has no steps`);
    return E.right({ from: 0, to: -1 });
  }
  const from = opts.from ?? 0;
  const to = opts.to ?? n - 1;
  if (!Number.isInteger(from) || from < 0 || from >= n) return E.left(rangeError(trace, '--from', from, 0, n - 1));
  if (!Number.isInteger(to) || to < 0 || to >= n) return E.left(rangeError(trace, '--to', to, 0, n - 1));
  if (from > to) return E.left(`--from ${from} is after --to ${to}`);
  if (opts.step !== undefined && (opts.step < from || opts.step > to)) return E.left(`step ${opts.step} is outside the rendered steps ${from}..${to}`);
  return E.right({ from, to });
}

interface RowPlan {
  id: string;
  label: string;
  cls?: string;
  labelTitle?: string;
  /** Left out of the page when no cell of it has content. */
  optional?: boolean;
  cell?: (s: Snapshot) => Cell;
}

/**
 * Run `trace` and write the page to `out`, column by column through a spool. Left for a
 * window or step outside the trace, or a config the model refuses.
 */
export function writeHtml(trace: Trace, opts: HtmlOptions, out: Sink, spillable: boolean): E.Either<string, HtmlReport> {
  const win = checkWindow(trace, opts);
  if (E.isLeft(win)) return win;
  const { from, to } = win.right;
  const n = trace.steps.length;
  const inWindow = (i: number): boolean => i >= from - 1 && i <= to;

  // A large config shows only the LRs and vCPUs the window uses: one run to find them.
  let usage: Usage | null = null;
  if (needsUsage(trace)) {
    const u: Usage = { lrs: new Set(), vcpus: new Set() };
    const pre = walkRun(trace, { ...(to >= 0 ? { last: to } : {}), snapshotAt: inWindow, ...(from === 0 ? { onInitial: (s: Snapshot) => noteUsage(u, s) } : {}) }, (s) => {
      if (s.snapshot !== null) noteUsage(u, s.snapshot);
    });
    if (E.isLeft(pre)) return pre;
    usage = u;
  }
  const { sections: secs, hidden } = sections(trace, usage);
  const itsBases = itsBasesOf(trace);

  // Spool row 0 is the header; then the "step" rows; then every section's rows.
  const expectRow = 1;
  const checkRow = 2;
  const stepRows: RowPlan[] = [
    { id: 'expect', label: 'expect', cls: 'detail', labelTitle: 'the step\'s expectation: ✓ met, or the JSON path of the first difference with expected and actual', optional: true },
    { id: 'check', label: 'check', cls: 'detail', labelTitle: 'what the invariant checker and step properties found after the step (dump --check)', optional: true },
  ];
  const planned: { title: string; rows: RowPlan[] }[] = [{ title: 'step', rows: stepRows }, ...secs];
  const flat: RowPlan[] = planned.flatMap((s) => s.rows);
  const stateRows = flat.map((r, i) => ({ r, i: i + 1 })).filter((x) => x.r.cell !== undefined);
  const used = new Array<boolean>(flat.length + 1).fill(false);
  const spool = new Spool(flat.length + 1, opts.chunkChars ?? 4_000_000, spillable);
  try {
    return writeWithSpool();
  } finally {
    spool.dispose();
  }

  function writeWithSpool(): E.Either<string, HtmlReport> {
    const prevKey: (string | null)[] = new Array<string | null>(flat.length + 1).fill(null);

    const cite = new Citations();
    const notes: string[] = [];
    let moreNotes = 0;
    const note = (s: string): void => {
      if (notes.length < MAX_NOTES) notes.push(s);
      else moreNotes += 1;
    };
    const link = (i: number): string => `<a href="#s${i}">step ${i}</a>`;
    const counts = new Map<string, number>();
    let columns = 0;
    let checked = 0;
    let failed = 0;
    let violations = 0;
    let crashAt: DumpStep | null = null;
    /** The newest state at or before the last step seen, and which step it follows. */
    let last: { after: number; snapshot: Snapshot } | null = null;
    let initial: Snapshot | null = null;
    let refDone = false;

    const td = (cls: string[], title: string, html: string): string => {
      const c = cls.filter((x) => x !== '').join(' ');
      return `<td${c === '' ? '' : ` class="${c}"`}${title === '' ? '' : ` title="${escapeHtml(title)}"`}>${html}</td>`;
    };

    /** The reference column: the state before the first rendered step. */
    const refColumn = (): void => {
      refDone = true;
      const state = from === 0 ? initial : last?.snapshot ?? null;
      const label = from === 0 ? 'init' : `before ${from}`;
      const what = from === 0 ? 'the state before step 0' : last === null ? `no state before step ${from}` : `the state after step ${last.after} (steps before ${from} are applied, not shown)`;
      spool.append(0, `<th class="col init" title="${escapeHtml(what)}"><div class="idx">${label}</div><div class="opn">&nbsp;</div><div class="args">${escapeHtml(from === 0 ? 'before step 0' : `after step ${last?.after ?? from - 1}`)}</div></th>`);
      spool.append(expectRow, '<td></td>');
      spool.append(checkRow, '<td></td>');
      for (const { r, i } of stateRows) {
        if (state === null) {
          spool.append(i, '<td class="dead" title="no state">—</td>');
          prevKey[i] = null;
          continue;
        }
        const c = r.cell!(state);
        if (c.html !== '') used[i] = true;
        spool.append(i, td([c.cls ?? ''], c.title ?? '', c.html));
        prevKey[i] = c.key;
      }
      spool.column();
    };

    const stepColumn = (st: DumpStep): void => {
      if (!refDone) refColumn();
      columns += 1;
      const outcome = short(st.result['outcome']);
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
      const sel = opts.step === st.index ? 'sel' : '';
      const crashed = outcome === 'crash';
      // A crashed step has no state: its column repeats the newest one, greyed.
      const state = crashed ? last?.snapshot ?? null : st.snapshot;
      const crashState = crashed ? (last === null ? 'no state to show' : `greyed cells: the state after step ${last.after}, the last one (no state after a crash)`) : null;
      const miss = st.expect.status === 'fail' ? st.expect.mismatch : null;
      const onRow = miss === null ? null : expectRows(miss.path, state);
      const missText = miss === null ? '' : `expected ${show(miss.expected)}, actual ${show(miss.actual)}`;
      let changed = false;
      for (const { r, i } of stateRows) {
        if (state === null) {
          spool.append(i, `<td class="dead${sel === '' ? '' : ' sel'}" title="no state">—</td>`);
          prevKey[i] = null;
          continue;
        }
        const c = r.cell!(state);
        const chg = !crashed && prevKey[i] !== null && prevKey[i] !== c.key;
        if (chg) changed = true;
        const bad = onRow !== null && onRow(r.id);
        if (c.html !== '' || bad) used[i] = true;
        const html = bad ? `${c.html}<span class="xv">✗ ${escapeHtml(missText)}</span>` : c.html;
        const title = bad ? `failed expectation at ${miss!.path}: ${missText}${c.title === undefined ? '' : `\n${c.title}`}` : c.title ?? '';
        spool.append(i, td([c.cls ?? '', chg ? 'chg' : '', crashed ? 'pre' : '', bad ? 'xbad' : '', sel], title, html));
        prevKey[i] = c.key;
      }
      // The step rows.
      const x = st.expect;
      if (x.status === 'none') spool.append(expectRow, td([sel], '', ''));
      else {
        checked += 1;
        used[expectRow] = true;
        if (x.status === 'pass') spool.append(expectRow, td(['xok', sel], 'expectation met', '✓'));
        else {
          failed += 1;
          const text = x.status === 'fail' ? `✗ ${x.mismatch.path}: ${missText}${x.mismatch.why === undefined ? '' : ` (${x.mismatch.why})`}` : `✗ cannot be checked: ${x.message}`;
          spool.append(expectRow, td(['xfail', sel], text, escapeHtml(text)));
        }
        if (x.status !== 'pass') note(`${link(st.index)}: ${cite.text(expectText(x) ?? '')}`);
      }
      const f = st.findings ?? [];
      if (f.length === 0) spool.append(checkRow, td([sel], '', ''));
      else {
        violations += 1;
        used[checkRow] = true;
        spool.append(checkRow, td(['viol', sel], f.map(describeFinding).join('\n'), f.map((v) => `<b>${escapeHtml(v.id)}</b> ${escapeHtml(v.message)}`).join('<br>')));
        for (const v of f) note(`${link(st.index)}: check: VIOLATED ${cite.text(describeFinding(v))}`);
      }
      if (crashed) {
        crashAt ??= st;
        note(`${link(st.index)}: crash: ${cite.text(short(st.result['reason'] ?? ''))} — Xen would fail here; the machine has no state afterwards`);
      }
      for (const l of resultLog(st.result)) note(`${link(st.index)}: log ${cite.text(l)}`);
      const extra = [changed ? 'has-chg' : '', sel].filter((c) => c !== '');
      spool.append(0, stepHeader(st, extra, crashState, itsBases, msiKey(st.op, state)));
      spool.column();
    };

    const walked = walkRun(trace, {
      ...(to >= 0 ? { last: to } : {}),
      ...(opts.check === true ? { check: true } : {}),
      ...(opts.mutant === undefined ? {} : { mutant: opts.mutant }),
      snapshotAt: inWindow,
      onInitial: (s) => {
        initial = s;
        last = { after: -1, snapshot: s };
      },
    }, (st) => {
      if (st.index >= from) stepColumn(st);
      if (st.snapshot !== null) last = { after: st.index, snapshot: st.snapshot };
    });
    if (E.isLeft(walked)) return walked;
    const { stopped } = walked.right;
    if (!refDone) refColumn();
    // A trace error inside the window that is not an applied step gets its own column.
    let stopColumn = false;
    if (stopped !== null && stopped.step >= from && stopped.step <= to && stopped.step >= walked.right.applied) {
      stopColumn = true;
      columns += 1;
      const sel = opts.step !== undefined && opts.step >= stopped.step;
      spool.append(0, stopHeader(trace, stopped, sel));
      for (let i = 1; i <= flat.length; i++) spool.append(i, `<td class="dead${sel ? ' sel' : ''}" title="not applied: trace error">—</td>`);
      note(`${link(stopped.step)}: trace error: ${cite.text(stopped.message)}`);
    } else if (stopped !== null) {
      note(`trace error at step ${stopped.step}: ${cite.text(stopped.message)}`);
    }

    // ----- the page, now that everything about it is known -----
    const full = from === 0 && to === n - 1;
    const outcomes = [...counts].map(([k, v]) => `${v} ${k}`).join(', ');
    const exp = checked === 0 ? 'no expectations' : failed === 0 ? `${checked} expectations met` : `${failed} of ${checked} expectations FAILED`;
    const applied = walked.right.applied;
    const appliedText = full ? (applied === n ? 'all applied' : `${applied} applied`)
      : `showing steps ${from}..${to}${applied > to ? '' : ` (${Math.max(0, applied - from)} applied)`}`;
    const checkText = opts.check === true ? ` · checker: ${violations === 0 ? 'no violation' : `${violations} step${violations === 1 ? '' : 's'} with violations`}` : '';
    const summary = `${n} step${n === 1 ? '' : 's'}, ${appliedText}${outcomes === '' ? '' : ` (${outcomes})`} · ${exp}${checkText}`;
    const refs = trace.refs === undefined || trace.refs.length === 0 ? ''
      : `<div class="meta">refs: ${trace.refs.map((r) => cite.chip(r)).join('')}</div>`;
    const desc = trace.description === undefined ? '' : `<p class="desc">${cite.text(trace.description)}</p>`;
    const stopAlert = stopped === null ? ''
      : `<div class="alert">TRACE ERROR at step ${stopped.step}: ${cite.text(stopped.message)}\nThe run stops there: ${n - applied} step(s) not applied; the last column before it is the last good state.</div>`;
    const crashed = crashAt as DumpStep | null;
    const crashAlert = crashed === null ? ''
      : `<div class="alert">CRASH at step ${crashed.index}: ${cite.text(short(crashed.result['reason'] ?? ''))}</div>`;
    const hiddenNote = hidden.length === 0 ? '' : `<div class="meta">${hidden.map(escapeHtml).join(' · ')}</div>`;
    const totalCols = columns + 1;

    out.write(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(trace.name)} — vgic dump</title>
<style>${CSS}</style>
</head>
<body>
<header class="top">
<h1>${escapeHtml(trace.name)}</h1>
${desc}
${refs}
<div class="meta">${escapeHtml(configLine(trace))}</div>
<div class="meta">${escapeHtml(summary)}</div>
${crashAlert}${stopAlert}${hiddenNote}
${navBar()}
${legend(itsBases.length > 0)}
</header>
<main id="main">
<table>
<thead><tr><th class="lbl">step<br>op<br>outcome</th>`);
    spool.emit(0, out);
    out.write('</tr></thead>\n<tbody>\n');
    let row = 1;
    for (const sec of planned) {
      const rows = sec.rows.map((r) => ({ r, i: row++ })).filter((x) => !x.r.optional || used[x.i]);
      if (rows.length === 0) continue;
      out.write(`<tr class="sec"><th class="lbl">${escapeHtml(sec.title)}</th><td colspan="${totalCols}"></td></tr>\n`);
      for (const { r, i } of rows) {
        const lt = r.labelTitle === undefined ? '' : ` title="${escapeHtml(r.labelTitle)}"`;
        out.write(`<tr${r.cls === undefined ? '' : ` class="${r.cls}"`}><th class="lbl"${lt}>${escapeHtml(r.label)}</th>`);
        spool.emit(i, out);
        out.write('</tr>\n');
      }
    }
    out.write('</tbody>\n</table>\n');
    if (notes.length > 0) {
      out.write(`<h2>Notes</h2>\n<ol class="notes">${notes.map((x) => `<li>${x}</li>`).join('')}${moreNotes > 0 ? `<li>… and ${moreNotes} more notes</li>` : ''}</ol>\n`);
    }
    out.write(`${cite.glossary()}\n</main>\n<script>${SCRIPT}</script>\n</body>\n</html>\n`);
    return E.right({ from, to, columns: columns - (stopColumn ? 1 : 0), stopped, violations, failed, spilled: spool.spilled });
  }
}

/** Run `trace` and render it as one self-contained HTML page, as a string (short traces, tests). */
export function dumpHtml(trace: Trace, opts: HtmlOptions = {}): E.Either<string, string> {
  const sink = new StringSink();
  const r = writeHtml(trace, opts, sink, false);
  return E.isLeft(r) ? r : E.right(sink.parts.join(''));
}

/**
 * Run `trace` and write its page to `file` as a stream: the page is never held in memory
 * (the spool keeps one chunk, the writer one block). Left for a window or step outside the
 * trace, or a file that cannot be written (naming it and the error code).
 */
export function writeHtmlFile(trace: Trace, opts: HtmlOptions, file: string): E.Either<string, HtmlReport> {
  const win = checkWindow(trace, opts);
  if (E.isLeft(win)) return win;
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch (e) {
    return E.left(`${file}: cannot write: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    const sink = new FdSink(fd);
    const r = writeHtml(trace, opts, sink, true);
    sink.flush();
    return r;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined) throw e;
    return E.left(`${file}: cannot write: ${code}`);
  } finally {
    closeSync(fd);
  }
}
