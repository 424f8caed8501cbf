import type { Exchange } from './connection.js';

export type AppName = 'auth' | 'mcp';

/** A value the run sent or saw that must never reach a log: tokens, codes, passwords, cookies. */
export interface SecretEntry {
  readonly value: string;
  /** What it is, printed instead of the value (`access token`, `cookie _session`). */
  readonly label: string;
}

/** One generated request: its bytes, where it goes, and what the checks need to know about it. */
export interface PlannedRequest extends Exchange {
  readonly app: AppName;
  /** For grouping findings: app, method and route with ids replaced (`POST /reg/:id`). */
  readonly endpoint: string;
  /**
   * `answer`: the request was complete, so closing or timing out without any response is a
   * finding. `any`: a truncated request, which a server may drop.
   */
  readonly expect: 'answer' | 'any';
  /** Foreign host names this request named (Host, X-Forwarded-Host, absolute-form target). */
  readonly foreignHosts: readonly string[];
  /** Secrets only this request carries (the wrong passwords it tried). */
  readonly sentSecrets: readonly SecretEntry[];
}
