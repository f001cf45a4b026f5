/**
 * Input limits of the whole project: every figure that bounds what vgic-model reads from
 * outside (trace files, configs, `vgic serve` requests, responses of another implementation).
 * Input beyond a limit is refused with a message that names the limit; nothing here is a
 * property of Xen or of the GIC (those are in src/arch/limits.ts).
 */

/** Deepest nesting of JSON arrays and objects in any input (the top-level value is level 1). */
export const MAX_JSON_DEPTH = 64;

/** Largest trace file read (bytes): 256 MiB. */
export const MAX_TRACE_FILE_BYTES = 256 * 1024 * 1024;

/** Longest `vgic serve` request line (bytes, without its newline): 16 MiB. */
export const MAX_REQUEST_LINE_BYTES = 16 * 1024 * 1024;

/** Longest response line `vgic diff` reads from the other side (bytes, without its newline): 64 MiB. */
export const MAX_RESPONSE_LINE_BYTES = 64 * 1024 * 1024;

/**
 * A config's total state budget: the sum over its domains of 32 × vcpus + nr_spis (the
 * interrupt records the machine allocates: SGIs and PPIs per vCPU, SPIs per domain), at most
 * 2^17. Checked after the per-key limits, which alone would allow 32768 domains of 128 vCPUs
 * and 960 SPIs each.
 */
export const MAX_CONFIG_IRQ_RECORDS = 131072;

/** `16 MiB` for a byte count that is a whole number of MiB (else the bytes). */
export function formatBytes(n: number): string {
  const mib = 1024 * 1024;
  return n >= mib && n % mib === 0 ? `${n / mib} MiB` : `${n} bytes`;
}
