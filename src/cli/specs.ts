/**
 * The option tables of the `vgic` commands (args.ts), apart from the commands themselves, so
 * that `vgic` can read its arguments and print help before it loads the one command it runs
 * (run.ts loads each on demand: a command's start-up is its own modules only).
 */
import { COMPARE_LEVELS, SNAPSHOT_ABILITIES } from '../conformance/levels.js';
import type { CommandSpec } from './args.js';
import { GEN_OPTIONS, genOptionsWith } from './gen-options.js';

export const REPLAY_CMD: CommandSpec = {
  name: 'replay',
  summary: 'Run traces on the model and check their expectations (partial matching, docs/trace-format.md): one line per trace, then the totals.',
  args: '<trace.json|dir>...',
  options: {
    json: { type: 'boolean', help: 'print the report as JSON' },
    check: { type: 'boolean', help: 'also check the invariants (I1-I19) and step properties (P2-P8) after every step; a checked step counts as a check' },
    mutant: { type: 'string', value: 'NAME', help: 'run on a deliberately wrong model (vgic mutants lists them)' },
  },
  details: `Directories are read recursively (their *.json files, sorted). A trace without any
expectation is listed as UNCHECKED and does not count as passed.

exit status: 0 every trace passes; 1 an expectation failed, an invariant broke (--check), or
nothing at all was checked (no trace carries an expectation and --check was not given);
2 a file cannot be read or decoded, or a step is a trace error.`,
};

export const SERVE_CMD: CommandSpec = {
  name: 'serve',
  summary: 'The model as a driver (docs/trace-format.md, "The driver protocol"): one JSON request per line on stdin, one response line each on stdout.',
  options: {
    mutant: { type: 'string', value: 'NAME', help: 'serve a deliberately wrong model (vgic mutants lists them)' },
    divergence: {
      type: 'string', value: 'NAME[,NAME...]',
      help: 'serve the model with these entries of the divergence catalogue (docs/divergences.md) switched to the architectural behaviour',
    },
    snapshots: {
      type: 'string', choices: SNAPSHOT_ABILITIES, default: 'full',
      help: 'the snapshots it announces in hello and answers; guest or none play a driver that sees less (no snapshot op either)',
    },
  },
  details: `Requests: hello, reset (a config), step (one op), snapshot (full, or "level":"guest"),
quit. A bad config or a trace error is an ok:false answer and the session goes on; a line
that breaks the protocol is answered ok:false and ends the session.

exit status: 0 the session ended (quit or end of input); 2 bad usage or a request that
breaks the protocol.`,
};

export const DIFF_CMD: CommandSpec = {
  name: 'diff',
  summary: 'Run the same steps on the model and on another implementation behind the driver protocol; shrink and write out the first divergence.',
  args: '<trace.json|dir>...',
  argsOr: 'random',
  options: {
    against: { type: 'string', value: '"<command>"', help: 'the other side, started through the shell (the model itself: "npx vgic serve")', required: true },
    random: { type: 'string', value: 'N', help: 'compare N random traces, generated from the ops the other side lists', int: [1, 10_000_000] },
    ...genOptionsWith('random'),
    compare: { type: 'string', help: 'what is compared: RESULTs only, RESULTs and guest snapshots, or RESULTs and full snapshots', choices: COMPARE_LEVELS, default: 'full' },
    allow: {
      type: 'string', value: 'NAME[,NAME...]',
      help: 'accept these known differences of the divergence catalogue (docs/divergences.md): a case whose first difference one of them explains ends there, counted as allowed',
    },
    out: { type: 'string', value: 'FILE', help: 'where the shrunk divergence is written', default: 'vgic-diff-divergence.json' },
    timeout: { type: 'string', value: 'MS', help: 'how long to wait for each answer of the other side', int: [100, 3_600_000], default: 20000 },
  },
  details: `Every RESULT is compared and, after every step, the snapshots at the level --compare
names: full (Xen's whole state, docs/trace-format.md §5), guest (what the guest and the
hardware can observe, §5.1 there) or results (no snapshots). A level the other side does not
announce in hello ("snapshots") is refused. Only the ops the other side lists in hello are
used: a trace file that needs another op is skipped.

exit status: 0 no divergence (at least one step compared); 1 a divergence (shrunk and written
to --out), or nothing compared (every trace skipped, the other side lists no ops, or no
steps); 2 bad usage, invalid trace files, or another side that breaks the protocol (dies,
answers something that is not a response, times out, lists ops the model does not know), or
one that cannot answer the --compare level.`,
};

export const FUZZ_CMD: CommandSpec = {
  name: 'fuzz',
  summary: 'Generate seeded random valid traces: summarise what they did, write them as vgic-trace/1 files (--out), or check invariants and properties after every step (--check).',
  options: {
    count: { type: 'string', value: 'N', help: 'traces to generate', int: [1, 100_000_000], default: 10 },
    ...GEN_OPTIONS,
    out: { type: 'string', value: 'DIR', help: 'write each trace to DIR/<name>.json (with --check: where a violation is written)' },
    expect: { type: 'string', choices: ['none', 'results', 'snapshots'], help: 'what every written step expects: nothing, the model\'s RESULT, or its RESULT and snapshot', default: 'results', with: 'out' },
    json: { type: 'boolean', help: 'print the summary as JSON' },
    check: { type: 'boolean', help: 'run the invariant checker (I1-I19) and step properties (P2-P8) after every step, plus delivery scenarios (P1) and multi-domain traces (P7)' },
    delivery: { type: 'string', value: 'N', help: 'delivery scenarios', int: [0, 100_000_000], defaultText: 'count/10', with: 'check' },
    'multi-domain': { type: 'string', value: 'N', help: 'multi-domain traces (2-4 domains, seeds S..S+N-1) checked with P7 (noninterference) too', int: [0, 100_000_000], defaultText: 'count/20', with: 'check' },
    mutant: { type: 'string', value: 'NAME', help: 'run the campaign on a deliberately wrong model', with: 'check' },
    mmio: {
      type: 'boolean',
      help: 'the guest-register reliability campaign instead: per GIC version (both unless --gic), --count machines of --steps steps of random register accesses (any offset in and outside the frames, widths 1/2/4/8, aligned or not, any value) mixed with the other ops, invariants and properties after every step; counts outcomes, trace errors, violations and exceptions',
    },
  },
  details: `Trace i uses seed S + i, so any trace can be regenerated alone. Written traces carry the
model's RESULTs as expectations unless --expect none: vgic replay then checks them (a trace
without expectations checks nothing, and vgic replay says so).

With --mmio, machine i uses seed S + i (its config and its steps); the first violation of
each invariant or property is shrunk and written to vgic-mmio-fuzz-ID-GIC.json (or into DIR),
an exception's steps to vgic-mmio-fuzz-exception-GIC-seed-S.json.

exit status: 0 done (with --check: no violation; with --mmio: no violation, no exception and
no refused access that changed the machine); 1 with --check, an invariant or property
violated (the trace is written to vgic-fuzz-violation.json or DIR), with --mmio any of those;
2 bad usage.`,
};

export const DUMP_CMD: CommandSpec = {
  name: 'dump',
  summary: 'Run one trace and show the state after a step as text, or the whole run as a self-contained HTML timeline.',
  args: '<trace.json>',
  options: {
    step: { type: 'string', value: 'K', help: 'the step to show (default: the last step applied); with --html, the column to highlight', int: [0, Number.MAX_SAFE_INTEGER] },
    check: { type: 'boolean', help: 'run the invariant checker and step properties after every step and show what they find' },
    html: { type: 'string', value: 'FILE', help: 'write the run as one HTML page to FILE and print its path (FILE#sK jumps to step K)' },
    from: { type: 'string', value: 'K', help: 'the first step the page shows (the steps before it are applied, not shown)', int: [0, Number.MAX_SAFE_INTEGER], with: 'html' },
    to: { type: 'string', value: 'L', help: 'the last step the page shows; no step after it is applied', int: [0, Number.MAX_SAFE_INTEGER], with: 'html' },
  },
  details: `The text shows per pCPU its mode and UIE; per vCPU the inflight list, lr_pending and the
decoded LRs. The page has the steps across and each vCPU's LRs and lists down, changed cells
outlined, failed expectations marked on the cell with expected and actual, a crash column
with the state before it, checker findings (--check); its header and legend stay in view,
keys and buttons go to the next change, abort, crash, failed expectation or violation, and a
click on an IRQ highlights it in every row and step. It is written as a stream (memory stays
bounded for a 10^6-step trace); --from/--to render a window of steps.

exit status: 0 the dump was produced (also for a trace that stops with a trace error or a
crash, or breaks an invariant: use vgic replay to judge a trace); 2 bad usage, an unreadable
or invalid trace, a step or --from/--to outside the trace, or an HTML file that cannot be
written.`,
};

export const MUTANTS_CMD: CommandSpec = {
  name: 'mutants',
  summary: 'List the deliberate deviations --mutant switches on; with --run, measure how the suite kills each.',
  options: {
    run: { type: 'boolean', help: 'run every mutant against the fixtures, a property campaign and a differential run; print the table and the kill rate' },
    traces: { type: 'string', value: 'N', help: 'random traces in the property campaign', int: [1, 1_000_000], default: 150, with: 'run' },
    steps: { type: 'string', value: 'N', help: 'steps per random trace', int: [1, 100_000], default: 60, with: 'run' },
    seed: { type: 'string', value: 'S', help: 'seed of the first random trace', int: [0, 0xffffffff], default: 1, with: 'run' },
    delivery: { type: 'string', value: 'N', help: 'delivery scenarios (property P1)', int: [0, 1_000_000], default: 100, with: 'run' },
    only: { type: 'string', value: 'NAME', help: 'run this mutant only', with: 'run' },
    fixtures: { type: 'string', value: 'DIR', help: 'the fixture traces to replay on each mutant', default: 'fixtures', with: 'run' },
    json: { type: 'boolean', help: 'print the results as JSON', with: 'run' },
  },
  details: `A mutant is killed when a fixture fails on it, the campaign sees an invariant or property
broken, or the differential run against the unmutated model diverges.

exit status: 0 the list, or a kill rate of at least 95%; 1 a kill rate below 95%; 2 bad usage.`,
};
