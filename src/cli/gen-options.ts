/** Options of the random trace generator, shared by `vgic fuzz` and `vgic diff --random`. */
import { MAX_PCPUS, MAX_SPIS, maxVcpusFor } from '../arch/limits.js';
import type { GenOptions } from '../conformance/gen.js';
import { intOption, str, UsageError, type Parsed } from './args.js';

export const GEN_OPTIONS = {
  seed: { type: 'string' },
  steps: { type: 'string' },
  gic: { type: 'string' },
  lrs: { type: 'string' },
  pcpus: { type: 'string' },
  vcpus: { type: 'string' },
  spis: { type: 'string' },
} as const;

export const GEN_USAGE = '[--seed S] [--steps N] [--gic v2|v3] [--lrs N] [--pcpus N] [--vcpus N] [--spis N]';

export function genOptions(values: Parsed['values']): { seed: number; gen: GenOptions } {
  const gicRaw = str(values['gic']);
  if (gicRaw !== undefined && gicRaw !== 'v2' && gicRaw !== 'v3') throw new UsageError(`--gic: expected v2 or v3, got "${gicRaw}"`);
  const gic = gicRaw as 'v2' | 'v3' | undefined;
  const opt = (name: string, min: number, max: number): number | undefined => {
    const raw = str(values[name]);
    return raw === undefined ? undefined : intOption(name, raw, 0, min, max);
  };
  const maxLrs = gic === 'v2' ? 64 : 16;
  const maxVcpus = maxVcpusFor(gic ?? 'v2');
  return {
    seed: intOption('seed', str(values['seed']), 1, 0, 0xffffffff),
    gen: {
      steps: intOption('steps', str(values['steps']), 60, 1, 1_000_000),
      gic,
      nrLrs: opt('lrs', 1, maxLrs),
      pcpus: opt('pcpus', 1, MAX_PCPUS),
      vcpus: opt('vcpus', 1, gic === undefined ? 8 : maxVcpus),
      spis: opt('spis', 0, MAX_SPIS),
    },
  };
}
