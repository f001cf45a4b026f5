/**
 * The snapshot and comparison levels of the driver protocol and of differential runs
 * (trace-format §7), on their own: the command-line tables (src/cli/specs.ts) list them
 * without loading the protocol. protocol.ts and diff.ts export them too.
 */

/**
 * What a side announces in hello as `snapshots` (trace-format §7): the snapshots it can
 * answer. `full` answers both levels; `guest` only guest snapshots (trace-format §5.1); `none` neither.
 * A hello without the key is taken as `full` (the drivers written before the key existed).
 */
export const SNAPSHOT_ABILITIES = ['none', 'guest', 'full'] as const;
export type SnapshotAbility = (typeof SNAPSHOT_ABILITIES)[number];
/** The `level` of a snapshot request: absent means `full`. */
export const SNAPSHOT_LEVELS = ['guest', 'full'] as const;
export type SnapshotLevel = (typeof SNAPSHOT_LEVELS)[number];

/**
 * What a differential run compares (trace-format §7): `results` the RESULTs only; `guest` the
 * RESULTs and, after every step, the guest snapshots (trace-format §5.1); `full` the RESULTs and the full
 * snapshots (trace-format §5).
 */
export const COMPARE_LEVELS = ['results', 'guest', 'full'] as const;
export type CompareLevel = (typeof COMPARE_LEVELS)[number];
