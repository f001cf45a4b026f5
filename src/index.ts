/**
 * Public API of vgic-model: the machine, its codecs and the Xen model underneath, the
 * conformance kit (traces, replay, the driver protocol, differential runs, the generator, the
 * dumps) and the checkers (invariants, properties, the step monitor, campaigns). fast-check
 * arbitraries and the model-based commands are in `vgic-model/testing`.
 *
 * Results that can fail are fp-ts Eithers; `isLeft` / `isRight` are re-exported here, so a
 * consumer needs no import of fp-ts of its own.
 */
export { isLeft, isRight, type Either, type Left, type Right } from 'fp-ts/lib/Either.js';
export * from './arch/limits.js';
export * from './arch/intid.js';
export * from './arch/lr.js';
export * from './hw/cpuif.js';
export * from './hw/irqdesc.js';
export * from './xen/types.js';
export * from './xen/vgic.js';
export * from './xen/gic-vgic.js';
export * from './xen/irq.js';
export * from './xen/mutants.js';
export * from './xen/variant.js';
export * from './xen/divergences.js';
export * from './machine/decode.js';
export * from './machine/config.js';
export * from './machine/ops.js';
export * from './machine/snapshot.js';
export * from './machine/describe.js';
export * from './machine/machine.js';
export * from './conformance/schema.js';
export * from './conformance/trace.js';
export * from './conformance/replay.js';
export * from './conformance/protocol.js';
export * from './conformance/driver.js';
export * from './conformance/diff.js';
export * from './conformance/gen.js';
export * from './conformance/limits.js';
export * from './conformance/json.js';
export * from './conformance/dump.js';
export * from './conformance/html.js';
export { REFS, XEN_COMMIT, XEN_COMMIT_DATE, citedRefs, lookupRef, refAnchor, refKey, refLabel, type Ref } from './conformance/refs.js';
export * from './check/invariants.js';
export * from './check/properties.js';
export * from './check/monitor.js';
export * from './check/campaign.js';
export * from './check/divergences.js';
