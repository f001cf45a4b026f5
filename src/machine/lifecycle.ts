/**
 * The machine side of the domain lifecycle (docs/trace-format.md §3.6): building a domain from
 * a config entry (the config's domains at reset, `domain_create` at any step) and the op
 * `domain_destroy`, which runs Xen's teardown (src/xen/domain.ts) once every vCPU of the domain
 * is off its pCPU. Kept apart from machine.ts, which calls in here.
 */
import { MAX_CONFIG_IRQ_RECORDS } from '../conformance/limits.js';
import { IrqDesc } from '../hw/irqdesc.js';
import { domainKill } from '../xen/domain.js';
import type { Domain, Host } from '../xen/types.js';
import { createDomain } from '../xen/vgic.js';
import { checkDomainRules, domainRecords, isDeviceDomain, type Config, type DomainConfig } from './config.js';
import { setupDomainIts } from './its.js';
import type { Machine, Result } from './machine.js';
import type { OpOf } from './ops.js';
import { createDeviceDomain, vmOf } from './vmm.js';

const OK: Result = Object.freeze({ outcome: 'ok' });

/**
 * Build domain `dc` (already checked against the config rules) on `host`: a device domain
 * without vCPUs or vGIC (trace-format §10), or Xen's domain with its vGIC, ITS and RAM; then
 * configure the trigger type of its `pirqs` (a line already configured stays as it is).
 */
export function buildDomain(host: Host, dc: DomainConfig, config: Config): Domain {
  let d: Domain;
  if (isDeviceDomain(dc)) {
    d = createDeviceDomain(host, dc, config);
    host.domains.set(dc.id, d);
  } else {
    const created = createDomain(host, dc.id, dc.vcpus, dc.nr_spis, config.pcpus);
    // The config rules already enforce Xen's limits, so creation cannot fail here.
    if (created === 'EINVAL') throw new Error(`domain ${dc.id}: creation refused after validation`);
    d = created;
    host.domains.set(dc.id, d);
    setupDomainIts(host, d, dc, config); // ITS (trace-format §9)
  }
  for (const pirq of dc.pirqs ?? []) if (!host.irqDescs.has(pirq)) host.irqDescs.set(pirq, new IrqDesc(pirq));
  return d;
}

/** The interrupt records of the live domains, as the state budget counts them (a device domain: none). */
function liveRecords(host: Host): number {
  let n = 0;
  for (const d of host.domains.values()) if (d.vmm === null) n += 32 * d.vcpus.length + d.nrSpis;
  return n;
}

/**
 * domain_create: the entry's rules as in a config (the machine's gic, pcpus and lpi_bits), its
 * id not in use by a live domain, and the live domains with it inside the state budget; then
 * the domain is built as the config's are. A broken rule is a trace error naming the key
 * under `domain`.
 */
export function opDomainCreate(m: Machine, op: OpOf<'domain_create'>): Result | string {
  const dc = op.domain as DomainConfig;
  const errors: string[] = [];
  if (m.host.domains.has(dc.id)) {
    errors.push(`domain.id: domain ${dc.id} already exists (an id names one live domain; domain_destroy it first)`);
  }
  errors.push(...checkDomainRules(m.config, dc, 'domain'));
  if (errors.length === 0) {
    const live = liveRecords(m.host);
    const total = live + domainRecords(dc);
    if (total > MAX_CONFIG_IRQ_RECORDS) {
      errors.push(`domain: ${total} interrupt records with the live domains' ${live} (32 × vcpus + nr_spis rounded up to 32, per domain), `
        + `above the state budget of ${MAX_CONFIG_IRQ_RECORDS}`);
    }
  }
  if (errors.length > 0) return errors.join('; ');
  buildDomain(m.host, dc, m.config);
  return OK;
}

/**
 * domain_destroy: every vCPU of the domain off its pCPU (a trace error naming the first one
 * still loaded otherwise), then Xen's domain_kill and its teardown. The id is unknown to every
 * later op until a domain_create names it again; a device domain's device handles stay
 * numbered but refer to nothing.
 */
export function opDomainDestroy(m: Machine, op: OpOf<'domain_destroy'>): Result | string {
  const d = m.domain(op.domain);
  if (typeof d === 'string') return d;
  for (const v of d.vcpus) {
    if (v.runningOn !== null) {
      return `d${d.id}v${v.id} is running on pCPU ${v.runningOn}; domain_destroy needs every vCPU of the domain off its pCPU `
        + `(idle that pCPU or run another vCPU there first)`;
    }
  }
  domainKill(m.host, d);
  // Not Xen state: what the machine kept about the domain's vCPUs and devices.
  for (const v of d.vcpus) m.cpuOnWithLiveState.delete(v);
  const vm = vmOf(d);
  if (vm !== null) for (const dev of m.vmm.devices) if (dev.vm === vm) m.vmm.destroyed.set(dev.handle, d.id);
  return OK;
}
