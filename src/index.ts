/** Public API of vgic-model: the machine, its codecs and the Xen model underneath. */
export * from './arch/limits.js';
export * from './arch/intid.js';
export * from './arch/lr.js';
export * from './hw/cpuif.js';
export * from './hw/irqdesc.js';
export * from './xen/types.js';
export * from './xen/vgic.js';
export * from './xen/gic-vgic.js';
export * from './machine/decode.js';
export * from './machine/config.js';
export * from './machine/ops.js';
export * from './machine/snapshot.js';
export * from './machine/machine.js';
