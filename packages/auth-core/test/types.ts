/**
 * Type-level checks, compiled by `pnpm typecheck` (never run): auth-core's results must be what
 * the MCP SDK expects, so apps hand them over without casts.
 */
import type { AuthInfo as SdkAuthInfo } from '@modelcontextprotocol/server';
import type { AuthInfo, AuthOutcome } from '../src/index.js';

declare const ours: AuthInfo;
export const sdk: SdkAuthInfo = ours;

declare const outcome: AuthOutcome;
if (outcome.ok) {
  const forSdk: SdkAuthInfo = outcome.authInfo;
  void forSdk;
} else {
  // @ts-expect-error a failure carries no AuthInfo
  void outcome.authInfo;
}
