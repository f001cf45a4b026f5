/**
 * The machine configuration of trace-format §2.1: decoded with io-ts, then checked against
 * Xen's limits (reference §2.3, §2.4, §2.5). Errors name the key and the rule.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  MAX_DOMAIN_ID, MAX_PCPUS, MAX_SPIS, SPI_MAX_INTID, maxLrsFor, maxVcpusFor, roundUpToRank, type GicVersion,
} from '../arch/limits.js';
import { MAX_CONFIG_IRQ_RECORDS } from '../conformance/limits.js';
import { Nat, decodeWith, oneOf, strictObject } from './decode.js';

export const DomainConfigCodec = strictObject(
  'domain config',
  { id: Nat, vcpus: Nat, nr_spis: Nat },
  { pirqs: t.array(Nat) },
);

export const ConfigCodec = strictObject('config', {
  gic: oneOf(['v2', 'v3'] as const),
  nr_lrs: Nat,
  pcpus: Nat,
  domains: t.array(DomainConfigCodec),
});

export interface DomainConfig {
  id: number;
  vcpus: number;
  nr_spis: number;
  pirqs?: number[];
}

export interface Config {
  gic: GicVersion;
  nr_lrs: number;
  pcpus: number;
  domains: DomainConfig[];
}

/** The rules of trace-format §2.1 beyond JSON types; each message names the key and the rule. */
export function checkConfigRules(c: Config, base = 'config'): string[] {
  const errors: string[] = [];
  const gicName = c.gic === 'v2' ? 'GICv2' : 'GICv3';
  const maxLrs = maxLrsFor(c.gic);
  if (c.nr_lrs < 1 || c.nr_lrs > maxLrs) {
    errors.push(`${base}.nr_lrs: ${c.nr_lrs} is outside 1..${maxLrs}, the list registers a ${gicName} host can have (reference §2.5)`);
  }
  if (c.pcpus < 1 || c.pcpus > MAX_PCPUS) {
    errors.push(`${base}.pcpus: ${c.pcpus} is outside 1..${MAX_PCPUS}`);
  }
  const seen = new Map<number, number>();
  const maxVcpus = maxVcpusFor(c.gic);
  c.domains.forEach((d, i) => {
    const at = `${base}.domains[${i}]`;
    if (d.id > MAX_DOMAIN_ID) errors.push(`${at}.id: ${d.id} is outside 0..${MAX_DOMAIN_ID}`);
    const first = seen.get(d.id);
    if (first !== undefined) errors.push(`${at}.id: duplicate domain id ${d.id} (also domains[${first}].id)`);
    else seen.set(d.id, i);
    if (d.vcpus < 1) errors.push(`${at}.vcpus: a domain needs at least 1 vCPU, got ${d.vcpus}`);
    else if (d.vcpus > maxVcpus) {
      errors.push(`${at}.vcpus: ${d.vcpus} exceeds the ${gicName} limit of ${maxVcpus} vCPUs (reference §2.4)`);
    }
    const rounded = roundUpToRank(d.nr_spis);
    if (rounded > MAX_SPIS) {
      errors.push(`${at}.nr_spis: ${d.nr_spis} rounds up to ${rounded}, above the limit of ${MAX_SPIS} SPIs (reference §2.3, Q33)`);
    }
    (d.pirqs ?? []).forEach((pirq, j) => {
      if (pirq < 32 || pirq > SPI_MAX_INTID) {
        errors.push(`${at}.pirqs[${j}]: ${pirq} is not a host SPI (32..${SPI_MAX_INTID})`);
      }
    });
  });
  if (errors.length === 0) {
    // What is allocated: 32 private records per vCPU, and the SPIs rounded up to whole ranks.
    const total = c.domains.reduce((n, d) => n + 32 * d.vcpus + roundUpToRank(d.nr_spis), 0);
    if (total > MAX_CONFIG_IRQ_RECORDS) {
      errors.push(`${base}.domains: ${total} interrupt records in all (the sum over domains of 32 × vcpus + nr_spis rounded up to 32), `
        + `above the state budget of ${MAX_CONFIG_IRQ_RECORDS} for a config`);
    }
  }
  return errors;
}

/** Decode and check a config: Right(config) or Left(lines naming each problem). */
export function decodeConfig(u: unknown, base = 'config'): E.Either<string[], Config> {
  const decoded = decodeWith(ConfigCodec, u, base);
  if (E.isLeft(decoded)) return decoded;
  const config = decoded.right as Config;
  const errors = checkConfigRules(config, base);
  return errors.length > 0 ? E.left(errors) : E.right(config);
}
