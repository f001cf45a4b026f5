/**
 * The mutation campaign behind `npm run mutants`: every mutant of src/xen/mutants.ts is run
 * against (1) the fixtures, (2) a fixed property campaign (invariants, P1-P8, with its multi-domain
 * traces for P7) and (3) a
 * differential run against the unmutated model, whose first divergence is shrunk to give
 * "steps to the first divergence". A mutant is killed when the fixtures or the properties
 * (or the differential run) catch it.
 */
import { ModelDriver } from '../conformance/driver.js';
import { runCase, shrinkCase } from '../conformance/diff.js';
import { generateTrace } from '../conformance/gen.js';
import { replayPaths } from '../conformance/replay.js';
import type { MutantName } from '../xen/mutants.js';
import { runCampaign } from './campaign.js';

export interface MutationOptions {
  fixtures: string;
  seed: number;
  /** Random traces for the property campaign and the differential run. */
  traces: number;
  steps: number;
  delivery: number;
}

export interface MutantResult {
  mutant: MutantName;
  /** Fixtures that fail (or stop with a trace error) on the mutant. */
  fixtures: string[];
  /** The first invariant / property the campaign saw violated, with where. */
  property: { ids: string[]; seed: number; step: number } | null;
  /** The first divergence from the model in the random traces, shrunk. */
  divergence: { seed: number; steps: number; path: string } | null;
  /** The fixture that notices the mutant after the fewest steps. */
  firstFixture: { name: string; steps: number } | null;
  killed: boolean;
  seconds: number;
}

export async function runMutant(mutant: MutantName, o: MutationOptions): Promise<MutantResult> {
  const started = Date.now();
  const failing = replayPaths([o.fixtures], { mutant }).reports.filter((r) => r.status !== 'pass');
  const fixtures = failing.map((r) => r.name);
  // Steps until a fixture notices: its failed expectation's step, or the step that became a trace error.
  let firstFixture: MutantResult['firstFixture'] = null;
  for (const r of failing) {
    const steps = r.failure !== undefined ? r.failure.step + 1 : r.steps + 1;
    if (firstFixture === null || steps < firstFixture.steps) firstFixture = { name: r.name, steps };
  }
  const camp = runCampaign({ seed: o.seed, count: o.traces, steps: o.steps, delivery: o.delivery, mutant });
  let property: MutantResult['property'] = null;
  if (camp.violation !== null) property = { ids: camp.violation.ids, seed: camp.violation.seed, step: camp.violation.step };
  else if (camp.delivery.failure !== null) property = { ids: ['P1'], seed: camp.delivery.failure.seed, step: -1 };
  let divergence: MutantResult['divergence'] = null;
  const model = new ModelDriver();
  const other = new ModelDriver(mutant);
  for (let i = 0; i < o.traces && divergence === null; i++) {
    const t = generateTrace(o.seed + i, { steps: o.steps });
    const c = { name: t.name, config: t.config, steps: t.steps };
    const out = await runCase(model, other, c);
    if (out.kind !== 'diverged') continue;
    const shrunk = await shrinkCase(model, other, c, out.divergence, 1500);
    divergence = { seed: o.seed + i, steps: shrunk.case.steps.length, path: shrunk.divergence.path };
  }
  return {
    mutant, fixtures, property, divergence, firstFixture,
    killed: fixtures.length > 0 || property !== null || divergence !== null,
    seconds: (Date.now() - started) / 1000,
  };
}

/** The shorter of the shrunk random divergence and the quickest failing fixture. */
function stepsToDivergence(r: MutantResult): string {
  const d = r.divergence;
  const f = r.firstFixture;
  if (d !== null && (f === null || d.steps <= f.steps)) return `${d.steps} (random, seed ${d.seed})`;
  if (f !== null) return `${f.steps} (${f.name})`;
  return '-';
}

/** The table of `npm run mutants`. */
export function formatMutationTable(rs: readonly MutantResult[]): string {
  const rows = rs.map((r) => [
    r.mutant,
    r.killed ? 'killed' : 'SURVIVED',
    r.fixtures.length === 0 ? '-' : `${r.fixtures.length} (${r.fixtures[0]}${r.fixtures.length > 1 ? ', ...' : ''})`,
    r.property === null ? '-' : `${r.property.ids.join('+')} (seed ${r.property.seed}${r.property.step >= 0 ? `, step ${r.property.step}` : ''})`,
    stepsToDivergence(r),
  ]);
  const head = ['mutant', 'result', 'fixtures failing', 'first property broken', 'steps to divergence'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const killed = rs.filter((r) => r.killed).length;
  return [
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `kill rate: ${killed}/${rs.length} = ${(100 * killed / rs.length).toFixed(1)}%`,
  ].join('\n');
}
