/**
 * fast-check run parameters shared by the property specs. fast-check prints the seed and
 * path of a failure; set FC_SEED (and FC_PATH) to replay it.
 */
const FC_SEED = process.env['FC_SEED'];
const FC_PATH = process.env['FC_PATH'];

/** Conditional spreads: exactOptionalPropertyTypes forbids `{ seed: undefined }`. */
export const replay: { seed?: number; path?: string } = {
  ...(FC_SEED !== undefined && FC_SEED !== '' ? { seed: Number(FC_SEED) } : {}),
  ...(FC_PATH !== undefined && FC_PATH !== '' ? { path: FC_PATH } : {}),
};

/** Run parameters for `numRuns` runs, replayable through the environment. */
export function runs(numRuns: number): { numRuns: number; seed?: number; path?: string } {
  return { numRuns, ...replay };
}
