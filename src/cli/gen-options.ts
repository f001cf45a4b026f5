/** Options of the random trace generator, shared by `vgic fuzz` and `vgic diff --random`. */
import { MAX_PCPUS, MAX_SPIS, maxLrsFor, maxVcpusFor } from '../arch/limits.js';
import type { GenOptions } from '../conformance/gen.js';
import { intOption, type OptSpec, type Opts } from './args.js';

/**
 * The share of candidates that are a lifecycle batch with `--life` (GenOptions.life). Kept
 * here, not in gen-life.ts, so that reading the command tables (specs.ts, loaded by every
 * `vgic` command) does not load the generator.
 */
export const DEFAULT_LIFE_SHARE = 0.02;

/** The table rows; ranges are the widest any GIC allows, genOptions narrows them for --gic. */
export const GEN_OPTIONS = {
  seed: { type: 'string', value: 'S', help: 'trace i uses seed S + i', int: [0, 0xffffffff], default: 1 },
  steps: { type: 'string', value: 'N', help: 'steps per trace (fewer when it ends in a crash)', int: [1, 1_000_000], default: 60 },
  gic: { type: 'string', choices: ['v2', 'v3'], help: 'GIC version of every config', defaultText: 'random per trace' },
  lrs: { type: 'string', value: 'N', help: 'list registers, at most 16 unless --gic v2', int: [1, maxLrsFor('v2')], defaultText: 'random' },
  pcpus: { type: 'string', value: 'N', help: 'physical CPUs', int: [1, MAX_PCPUS], defaultText: 'random' },
  vcpus: { type: 'string', value: 'N', help: 'vCPUs per domain, at most 8 on GICv2 or without --gic', int: [1, maxVcpusFor('v3')], defaultText: 'random' },
  spis: { type: 'string', value: 'N', help: 'SPIs per domain', int: [0, MAX_SPIS], defaultText: 'random' },
  life: { type: 'boolean', help: 'now and then pause and destroy a domain and create one (domain_destroy, domain_create; with diff only when the other side lists both)' },
} as const satisfies Record<string, OptSpec>;

/** The same rows, each going with `parent` (diff: they only matter with --random). */
export function genOptionsWith(parent: string): Record<keyof typeof GEN_OPTIONS, OptSpec> {
  const out = {} as Record<keyof typeof GEN_OPTIONS, OptSpec>;
  for (const [k, v] of Object.entries(GEN_OPTIONS)) out[k as keyof typeof GEN_OPTIONS] = { ...v, with: parent };
  return out;
}

export function genOptions(o: Opts): { seed: number; gen: GenOptions } {
  const gic = o.str('gic') as 'v2' | 'v3' | undefined;
  // The table checked the widest range; the chosen GIC version may allow less.
  const opt = (name: string, min: number, max: number): number | undefined => {
    const raw = o.values[name];
    return typeof raw === 'string' ? intOption(name, raw, 0, min, max) : undefined;
  };
  return {
    seed: o.int('seed')!,
    gen: {
      steps: o.int('steps')!,
      gic,
      nrLrs: opt('lrs', 1, maxLrsFor(gic ?? 'v3')),
      pcpus: opt('pcpus', 1, MAX_PCPUS),
      vcpus: opt('vcpus', 1, gic === undefined ? 8 : maxVcpusFor(gic)),
      spis: opt('spis', 0, MAX_SPIS),
      ...(o.flag('life') ? { life: DEFAULT_LIFE_SHARE } : {}),
    },
  };
}
