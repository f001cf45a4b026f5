/**
 * Command-line options of the `vgic` commands: one table per command describes every option
 * (type, value placeholder, description, default, range or choices, what it goes with), and
 * that table alone feeds node:util parseArgs, the validation, the usage line and `--help`.
 * Usage errors are UsageError (exit 2).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One option of a command. */
export interface OptSpec {
  type: 'boolean' | 'string';
  /** Placeholder of the value in the usage line and help (N, FILE, MS); choices show as a|b. */
  value?: string;
  /** What it does, for --help. */
  help: string;
  /** The value when absent (returned by `Opts.int` / `Opts.str`) and shown by --help. */
  default?: number | string;
  /** What --help shows as the default when no table value can hold it ("random", "count/10"). */
  defaultText?: string;
  /** A whole number in [min, max]. */
  int?: readonly [number, number];
  /** One of these words. */
  choices?: readonly string[];
  required?: boolean;
  /** Only meaningful with this other option: nested in the usage line, a usage error without it. */
  with?: string;
  /** A one-letter alias (-h). */
  short?: string;
}

export type OptTable = Readonly<Record<string, OptSpec>>;

/** A command: its name, positional arguments and option table. */
export interface CommandSpec {
  name: string;
  /** One line for `vgic help`. */
  summary: string;
  /** Positional arguments as the usage line writes them; none accepted when absent. */
  args?: string;
  /** An option that stands instead of the positional arguments: `(<args> | --random N)`. */
  argsOr?: string;
  options: OptTable;
  /** Paragraph(s) after the options in --help: what it does in more words, exit status. */
  details: string;
}

/** `-h, --help`, added to every command's table. */
const HELP: OptSpec = { type: 'boolean', short: 'h', help: 'print this help and exit' };

function withHelp(options: OptTable): OptTable {
  return { ...options, help: HELP };
}

function placeholder(o: OptSpec): string {
  if (o.type === 'boolean') return '';
  return ` ${o.value ?? (o.choices !== undefined ? o.choices.join('|') : 'VALUE')}`;
}

/** `--name VALUE` with the options that go with it nested: `--check [--delivery N]`. */
function optionUsage(spec: CommandSpec, name: string): string {
  const o = spec.options[name]!;
  const nested = Object.entries(spec.options).filter(([, n]) => n.with === name).map(([n]) => ` [${optionUsage(spec, n)}]`);
  return `--${name}${placeholder(o)}${nested.join('')}`;
}

/** The usage line, derived from the table. */
export function usageLine(spec: CommandSpec): string {
  const parts = [`vgic ${spec.name}`];
  const entries = Object.entries(spec.options);
  for (const [name, o] of entries) if (o.required === true) parts.push(optionUsage(spec, name));
  if (spec.args !== undefined) {
    parts.push(spec.argsOr !== undefined ? `(${spec.args} | ${optionUsage(spec, spec.argsOr)})` : spec.args);
  }
  for (const [name, o] of entries) {
    if (o.required === true || o.with !== undefined || name === spec.argsOr) continue;
    parts.push(`[${optionUsage(spec, name)}]`);
  }
  return parts.join(' ');
}

function orList(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]!}`;
}

/** `vgic <command> --help`. */
export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(withHelp(spec.options)).map(([name, o]) => {
    const flag = `${o.short !== undefined ? `-${o.short}, ` : ''}--${name}${placeholder(o)}`;
    const notes: string[] = [];
    if (o.int !== undefined) notes.push(o.int[1] >= Number.MAX_SAFE_INTEGER ? `${o.int[0]} or more` : `${o.int[0]}..${o.int[1]}`);
    const dflt = o.defaultText ?? o.default;
    if (dflt !== undefined) notes.push(`default ${dflt}`);
    if (o.with !== undefined) notes.push(`with --${o.with}`);
    if (o.required === true) notes.push('required');
    return [flag, `${o.help}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length));
  const lines = [`usage: ${usageLine(spec)}`, '', spec.summary, '', 'options:'];
  for (const [flag, text] of rows) lines.push(`  ${flag.padEnd(width)}  ${text}`);
  lines.push('', spec.details);
  return `${lines.join('\n')}\n`;
}

/** The parsed command line of one command, with typed, validated accessors. */
export class Opts {
  constructor(
    readonly spec: CommandSpec,
    readonly values: Readonly<Record<string, string | boolean | undefined>>,
    readonly positionals: readonly string[],
  ) {}

  private opt(name: string, type: OptSpec['type']): OptSpec {
    const o = this.spec.options[name];
    // Asking for an option the table does not have is a bug in the command, not bad input.
    if (o === undefined || o.type !== type) throw new Error(`vgic ${this.spec.name}: no ${type} option --${name} in its table`);
    return o;
  }

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  flag(name: string): boolean {
    this.opt(name, 'boolean');
    return this.values[name] === true;
  }

  /** A string option as given (or its string default). */
  str(name: string): string | undefined {
    const o = this.opt(name, 'string');
    const v = this.values[name];
    if (typeof v === 'string') return v;
    return typeof o.default === 'string' ? o.default : undefined;
  }

  /** A whole-number option (validated by parse), or its numeric default, or undefined. */
  int(name: string): number | undefined {
    const o = this.opt(name, 'string');
    const v = this.values[name];
    if (typeof v === 'string') return Number(v);
    return typeof o.default === 'number' ? o.default : undefined;
  }

  /** A whole-number option with a default that the table cannot hold (it depends on other options). */
  intOr(name: string, fallback: number): number {
    return this.int(name) ?? fallback;
  }

  usage(): string {
    return usageLine(this.spec);
  }
}

/** A whole number option within [min, max]. */
export function intOption(name: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name}: expected a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`--${name}: ${n} is outside ${min}..${max}`);
  return n;
}

function parseConfig(spec: CommandSpec): NonNullable<ParseArgsConfig['options']> {
  const out: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, o] of Object.entries(withHelp(spec.options))) out[name] = o.short !== undefined ? { type: o.type, short: o.short } : { type: o.type };
  return out;
}

function rawParse(spec: CommandSpec, argv: readonly string[]): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: [...argv], options: parseConfig(spec), allowPositionals: spec.args !== undefined, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const opt = /'(-[^']*)'/.exec(err.message)?.[1];
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && opt !== undefined) throw new UsageError(`unknown option ${opt}`);
    if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`this command takes no file arguments (${err.message.replace(/^.*?'([^']*)'.*$/, '$1')})`);
    throw new UsageError(err.message);
  }
}

/** Does this command line ask for help (`-h` or `--help`, even next to other mistakes)? */
export function wantsHelp(spec: CommandSpec, argv: readonly string[]): boolean {
  try {
    return rawParse(spec, argv).values['help'] === true;
  } catch {
    const end = argv.indexOf('--');
    return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
  }
}

/** Parse and validate a command line against the command's table. */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): Opts {
  const { values, positionals } = rawParse(spec, argv);
  for (const [name, o] of Object.entries(spec.options)) {
    const v = values[name];
    if (v === undefined) {
      if (o.required === true) throw new UsageError(`--${name}${placeholder(o)} is required\nusage: ${usageLine(spec)}`);
      continue;
    }
    if (o.with !== undefined && values[o.with] === undefined) throw new UsageError(`--${name} goes with --${o.with}\nusage: ${usageLine(spec)}`);
    if (typeof v !== 'string') continue;
    if (o.int !== undefined) intOption(name, v, 0, o.int[0], o.int[1]);
    if (o.choices !== undefined && !o.choices.includes(v)) throw new UsageError(`--${name}: expected ${orList(o.choices)}, got "${v}"`);
  }
  return new Opts(spec, values, positionals);
}

/** Where a command writes; tests pass buffers. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Is standard error a terminal (progress lines)? */
  tty: boolean;
}

export const processIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  tty: process.stderr.isTTY === true,
};
