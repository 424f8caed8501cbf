import type { PlannedRequest } from '../plan.js';
import { Random } from '../random.js';
import { authorization, authorizationResume, pushedAuthorization } from './authorization.js';
import type { FuzzContext } from './context.js';
import { authMetadata, endSession, mcpMetadata, misc } from './discovery.js';
import { interaction } from './interaction.js';
import { mcpMethods, mcpPost } from './mcp.js';
import { raw } from './raw.js';
import { registration, registrationManagement } from './registration.js';
import { introspection, revocation, token } from './token.js';

export type Generator = (r: Random, ctx: FuzzContext, index: number) => PlannedRequest;

/** Every target and its share of the run (weights, summing to 100). */
export const TARGETS: ReadonlyArray<readonly [Generator, number]> = [
  [registration, 9],
  [registrationManagement, 5],
  [authorization, 9],
  [authorizationResume, 1],
  [pushedAuthorization, 4],
  [token, 11],
  [introspection, 4],
  [revocation, 4],
  [interaction, 9],
  [authMetadata, 3],
  [mcpMetadata, 2],
  [misc, 4],
  [endSession, 3],
  [mcpPost, 16],
  [mcpMethods, 5],
  [raw, 11],
];

/**
 * Request `index` of the run with `seed`: a function of those two and the live values in `ctx`
 * only, so a failing request is regenerated exactly by replaying the seed.
 */
export function generateRequest(seed: number, index: number, ctx: FuzzContext): PlannedRequest {
  const r = new Random(seed, index);
  const generate = r.weighted(TARGETS);
  return generate(r, ctx, index);
}
