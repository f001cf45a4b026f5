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
import { HexString, Nat, decodeWith, oneOf, strictObject } from './decode.js';

/**
 * A hex string checked like HexString but kept as written: configs are echoed back as JSON
 * (diff cases, reports), so they hold no bigint.
 */
const HexText = new t.Type<string, string, unknown>(
  'hex string',
  (u): u is string => typeof u === 'string' && HexString.is(u),
  (u, c) => {
    const r = HexString.validate(u, c);
    return r._tag === 'Left' ? r : t.success(u as string);
  },
  t.identity,
);

// ----- LPIs and the virtual ITS (trace-format §9.1) -----
export const ItsConfigCodec = strictObject('its config', { base: HexText, devid_bits: Nat, evid_bits: Nat });
export const RamRegionCodec = strictObject('ram region', { base: HexText, size: HexText });
// ----- end of the ITS keys -----

/**
 * A domain: the ordinary form `{ id, vcpus, nr_spis, ... }`, or (trace-format §10.1) one a VMM
 * builds through KVM's device API, `{ id, vgic: "device", ipa_bits?, ram?, pirqs? }`. Both are
 * decoded by one codec (`vcpus` and `nr_spis` optional here); checkConfigRules then asks each
 * form for its own keys, with the same messages as a strict codec would give.
 */
export const DomainConfigCodec = strictObject(
  'domain config',
  { id: Nat },
  {
    vcpus: Nat, nr_spis: Nat, pirqs: t.array(Nat), its: ItsConfigCodec, intid_bits: Nat, ram: t.array(RamRegionCodec),
    vgic: oneOf(['device'] as const), ipa_bits: Nat,
  },
);

export const ConfigCodec = strictObject('config', {
  gic: oneOf(['v2', 'v3'] as const),
  nr_lrs: Nat,
  pcpus: Nat,
  domains: t.array(DomainConfigCodec),
}, { lpi_bits: Nat, v2_on_v3: t.boolean });

/** A domain's virtual ITS (trace-format §9.1): control frame at `base`, the mirrored host ITS's ID widths. */
export interface ItsConfig {
  base: string;
  devid_bits: number;
  evid_bits: number;
}

/** One guest RAM region (trace-format §9.1). */
export interface RamRegionConfig {
  base: string;
  size: string;
}

/** A domain of the ordinary form: Xen builds its vGIC at creation (trace-format §2.1, §9.1). */
export interface XenDomainConfig {
  id: number;
  vcpus: number;
  nr_spis: number;
  pirqs?: number[];
  its?: ItsConfig;
  intid_bits?: number;
  ram?: RamRegionConfig[];
  vgic?: never;
  ipa_bits?: never;
}

/** A domain a VMM builds through KVM's device API (trace-format §10.1): no vCPU and no vGIC at first. */
export interface DeviceDomainConfig {
  id: number;
  vgic: 'device';
  /** The guest physical address size, 32..52 (default 40). */
  ipa_bits?: number;
  pirqs?: number[];
  ram?: RamRegionConfig[];
  vcpus?: never;
  nr_spis?: never;
  its?: never;
  intid_bits?: never;
}

export type DomainConfig = XenDomainConfig | DeviceDomainConfig;

/** Is `d` a domain a VMM builds through KVM's device API? */
export function isDeviceDomain(d: DomainConfig): d is DeviceDomainConfig {
  return (d as { vgic?: unknown }).vgic === 'device';
}

/** `ipa_bits` bounds and default (trace-format §10.1). */
export const MIN_IPA_BITS = 32;
export const MAX_IPA_BITS = 52;
export const DEFAULT_IPA_BITS = 40;

export interface Config {
  gic: GicVersion;
  nr_lrs: number;
  pcpus: number;
  domains: DomainConfig[];
  lpi_bits?: number;
  /** A GICv3 host that can also give a guest GICv2 (trace-format §10.1); default false. */
  v2_on_v3?: boolean;
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
  c.domains.forEach((d, i) => {
    const at = `${base}.domains[${i}]`;
    const rules = checkDomainRules(c, d, at);
    // The id's range first, then its uniqueness, then the other keys.
    const idRange = rules.length > 0 && rules[0]!.startsWith(`${at}.id:`) ? 1 : 0;
    errors.push(...rules.slice(0, idRange));
    const first = seen.get(d.id);
    if (first !== undefined) errors.push(`${at}.id: duplicate domain id ${d.id} (also domains[${first}].id)`);
    else seen.set(d.id, i);
    errors.push(...rules.slice(idRange));
  });
  if (c.lpi_bits !== undefined && (c.lpi_bits < MIN_LPI_BITS || c.lpi_bits > MAX_LPI_BITS)) {
    errors.push(`${base}.lpi_bits: ${c.lpi_bits} is outside ${MIN_LPI_BITS}..${MAX_LPI_BITS} (the host LPI space, Xen's max_lpi_bits)`);
  }
  if (c.v2_on_v3 === true && c.gic !== 'v3') errors.push(`${base}.v2_on_v3: only a GICv3 host can also emulate GICv2 (gic is "${c.gic}")`);
  if (errors.length === 0) {
    // What is allocated: 32 private records per vCPU, and the SPIs rounded up to whole ranks
    // (a device domain's are bounded by KVM's own limits, trace-format §10).
    const total = c.domains.reduce((n, d) => n + domainRecords(d), 0);
    if (total > MAX_CONFIG_IRQ_RECORDS) {
      errors.push(`${base}.domains: ${total} interrupt records in all (the sum over domains of 32 × vcpus + nr_spis rounded up to 32), `
        + `above the state budget of ${MAX_CONFIG_IRQ_RECORDS} for a config`);
    }
  }
  return errors;
}

/**
 * The rules of trace-format §2.1 (with trace-format §9.1 and trace-format §10.1) for one domain entry `d` of a machine
 * configured as `c` (its gic, pcpus, ...), every key named under `at`; all but the uniqueness
 * of the id and the state budget, which depend on the other domains. `domain_create`
 * (trace-format §3.6) checks its entry with these too.
 */
export function checkDomainRules(c: Config, d: DomainConfig, at: string): string[] {
  const errors: string[] = [];
  const gicName = c.gic === 'v2' ? 'GICv2' : 'GICv3';
  const maxVcpus = maxVcpusFor(c.gic);
  if (d.id > MAX_DOMAIN_ID) errors.push(`${at}.id: ${d.id} is outside 0..${MAX_DOMAIN_ID}`);
  const pirqRules = (): void => (d.pirqs ?? []).forEach((pirq, j) => {
    if (pirq < 32 || pirq > SPI_MAX_INTID) {
      errors.push(`${at}.pirqs[${j}]: ${pirq} is not a host SPI (32..${SPI_MAX_INTID})`);
    }
  });
  if (isDeviceDomain(d)) {
    errors.push(...checkDeviceDomainRules(c, d, at));
    pirqRules();
    return errors;
  }
  if ((d as { ipa_bits?: unknown }).ipa_bits !== undefined) errors.push(`${at}.ipa_bits: only a domain with "vgic": "device" takes ipa_bits`);
  if (d.vcpus === undefined) errors.push(`${at}.vcpus: missing key (expected non-negative integer)`);
  else if (d.vcpus < 1) errors.push(`${at}.vcpus: a domain needs at least 1 vCPU, got ${d.vcpus}`);
  else if (d.vcpus > maxVcpus) {
    errors.push(`${at}.vcpus: ${d.vcpus} exceeds the ${gicName} limit of ${maxVcpus} vCPUs (reference §2.4)`);
  }
  if (d.nr_spis === undefined) errors.push(`${at}.nr_spis: missing key (expected non-negative integer)`);
  else {
    const rounded = roundUpToRank(d.nr_spis);
    if (rounded > MAX_SPIS) {
      errors.push(`${at}.nr_spis: ${d.nr_spis} rounds up to ${rounded}, above the limit of ${MAX_SPIS} SPIs (reference §2.3, Q33)`);
    }
  }
  pirqRules();
  errors.push(...checkItsRules(c, d, at));
  return errors;
}

/** The interrupt records a domain entry counts against the state budget (a device domain: none, trace-format §10). */
export function domainRecords(d: DomainConfig): number {
  return isDeviceDomain(d) ? 0 : 32 * d.vcpus + roundUpToRank(d.nr_spis);
}

/** The rules of trace-format §10.1 for a domain a VMM builds: the keys it may not name, ipa_bits, ram. */
function checkDeviceDomainRules(c: Config, d: DeviceDomainConfig, at: string): string[] {
  const errors: string[] = [];
  const raw = d as unknown as Record<string, unknown>;
  for (const key of ['vcpus', 'nr_spis', 'its', 'intid_bits'] as const) {
    if (raw[key] !== undefined) {
      errors.push(`${at}.${key}: a domain with "vgic": "device" takes no ${key} (the VMM creates vCPUs and the vGIC through KVM's device API)`);
    }
  }
  if (d.ipa_bits !== undefined && (d.ipa_bits < MIN_IPA_BITS || d.ipa_bits > MAX_IPA_BITS)) {
    errors.push(`${at}.ipa_bits: ${d.ipa_bits} is outside ${MIN_IPA_BITS}..${MAX_IPA_BITS}`);
  }
  errors.push(...checkRamRules(d.ram, [], at));
  return errors;
}

/** Decode and check a config: Right(config) or Left(lines naming each problem). */
export function decodeConfig(u: unknown, base = 'config'): E.Either<string[], Config> {
  const decoded = decodeWith(ConfigCodec, u, base);
  if (E.isLeft(decoded)) return decoded;
  const config = decoded.right as unknown as Config;
  const errors = checkConfigRules(config, base);
  return errors.length > 0 ? E.left(errors) : E.right(config);
}

// ----- LPIs and the virtual ITS (trace-format §9.1) -----

/** Top-level `lpi_bits` bounds and default (Xen's max_lpi_bits, reference §C.1). */
export const MIN_LPI_BITS = 14;
export const MAX_LPI_BITS = 24;
export const DEFAULT_LPI_BITS = 20;
/** `intid_bits` bounds and default. */
export const MIN_INTID_BITS = 14;
export const MAX_INTID_BITS = 32;
export const DEFAULT_INTID_BITS = 16;
/** All of a domain's RAM together: 64 MiB. */
export const MAX_RAM_BYTES = 64 * 1024 * 1024;
/** The ITS region: 64 KiB control frame, then the 64 KiB translation frame (GICV3_ITS_SIZE). */
export const ITS_REGION_SIZE = 0x20000;
/** Guest physical addresses of the ITS and RAM stay below 2^52 (the largest address the ITS tables encode). */
export const GPA_LIMIT = 2 ** 52;

interface Span {
  lo: number;
  hi: number;
  what: string;
}

function hexNum(s: string): number {
  const v = BigInt(s);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

function spanText(s: Span): string {
  return `${s.what} 0x${s.lo.toString(16)}..0x${(s.hi - 1).toString(16)}`;
}

/** The GIC frames of the guest memory map (reference §2.6) that RAM and the ITS must not overlap. */
function gicFrames(gic: GicVersion): Span[] {
  return gic === 'v3'
    ? [{ lo: 0x3001000, hi: 0x3011000, what: 'the GICD frame' }, { lo: 0x3020000, hi: 0x4020000, what: 'the redistributor region' }]
    : [{ lo: 0x3001000, hi: 0x3002000, what: 'the GICD frame' }, { lo: 0x3002000, hi: 0x3004000, what: 'the GICC frame' }];
}

function overlaps(a: Span, b: Span): boolean {
  return a.lo < b.hi && b.lo < a.hi;
}

/** The rules of trace-format §9.1 for one domain: `its`, `intid_bits`, `ram`. */
function checkItsRules(c: Config, d: XenDomainConfig, at: string): string[] {
  const frames = gicFrames(c.gic);
  const ram: Span[] = [];
  const errors = checkRamRules(d.ram, frames, at, ram);
  if (d.its !== undefined) {
    const its = d.its;
    if (c.gic !== 'v3') errors.push(`${at}.its: a virtual ITS needs a GICv3 config (gic is "${c.gic}")`);
    const lo = hexNum(its.base);
    const span = { lo, hi: lo + ITS_REGION_SIZE, what: 'the ITS region' };
    if (lo % 0x10000 !== 0) errors.push(`${at}.its.base: ${its.base} is not 64 KiB aligned`);
    if (span.hi > GPA_LIMIT) errors.push(`${at}.its.base: ${its.base} puts the ITS above 2^52`);
    else {
      for (const f of frames) if (overlaps(span, f)) errors.push(`${at}.its.base: ${spanText(span)} overlaps ${spanText(f)}`);
      for (const r of ram) if (overlaps(span, r)) errors.push(`${at}.its.base: ${spanText(span)} overlaps ${spanText(r)}`);
    }
    if (its.devid_bits < 1 || its.devid_bits > 32) errors.push(`${at}.its.devid_bits: ${its.devid_bits} is outside 1..32`);
    if (its.evid_bits < 1 || its.evid_bits > 32) errors.push(`${at}.its.evid_bits: ${its.evid_bits} is outside 1..32`);
  }
  if (d.intid_bits !== undefined) {
    if (d.its === undefined) errors.push(`${at}.intid_bits: only a domain with \`its\` takes intid_bits`);
    else if (d.intid_bits < MIN_INTID_BITS || d.intid_bits > MAX_INTID_BITS) {
      errors.push(`${at}.intid_bits: ${d.intid_bits} is outside ${MIN_INTID_BITS}..${MAX_INTID_BITS}`);
    }
  }
  return errors;
}

/**
 * A domain's `ram` (trace-format §9.1): 4 KiB aligned regions below 2^52, at most 64 MiB in
 * all, overlapping neither each other nor `frames` (the fixed GIC frames; none for a device
 * domain, whose frames the VMM places). The regions checked are appended to `out`.
 */
function checkRamRules(regions: RamRegionConfig[] | undefined, frames: Span[], at: string, out: Span[] = []): string[] {
  const errors: string[] = [];
  const ram = out;
  let total = 0;
  (regions ?? []).forEach((r, j) => {
    const key = `${at}.ram[${j}]`;
    const lo = hexNum(r.base);
    const size = hexNum(r.size);
    if (lo % 4096 !== 0) errors.push(`${key}.base: ${r.base} is not 4 KiB aligned`);
    if (size === 0 || size % 4096 !== 0) errors.push(`${key}.size: ${r.size} is not a non-zero multiple of 4 KiB`);
    total += size;
    const span = { lo, hi: lo + size, what: `ram[${j}]` };
    if (span.hi > GPA_LIMIT) {
      errors.push(`${key}: ends above 2^52 (guest physical addresses the ITS tables can name)`);
      return;
    }
    for (const f of frames) if (overlaps(span, f)) errors.push(`${key}: ${spanText(span)} overlaps ${spanText(f)}`);
    for (const o of ram) if (overlaps(span, o)) errors.push(`${key}: ${spanText(span)} overlaps ${spanText(o)}`);
    ram.push(span);
  });
  if (total > MAX_RAM_BYTES) {
    errors.push(`${at}.ram: ${total} bytes in all, above the limit of 64 MiB (${MAX_RAM_BYTES} bytes) per domain`);
  }
  return errors;
}
// ----- end of the ITS rules -----
