import type { Challenge } from './challenge-header.js';
import type { Findings } from './report.js';

/**
 * What the walk has learnt so far, step by step, as a client would hold it: each check reads what
 * earlier steps found and adds what it finds. A missing piece means an earlier step failed, and
 * later checks that need it report `skip` instead of guessing.
 */
export interface Walk {
  readonly mcpUrl: string;
  readonly findings: Findings;
  /** The browser origin the CORS checks present (MCP Inspector's by default). */
  readonly browserOrigin: string;
  /** The Bearer challenge of the unauthenticated answer, if any. */
  challenge?: Challenge;
  /** Where the protected resource metadata was found, and what it says. */
  resourceMetadata?: { readonly url: string; readonly document: Readonly<Record<string, unknown>> };
  /** The authorization server the metadata names first: the one clients use. */
  issuer?: string;
  authorizationServer?: {
    readonly url: string;
    readonly document: Readonly<Record<string, unknown>>;
  };
  /** The metadata's issuer differs from the one named only by a trailing slash (some clients tolerate it). */
  issuerDiffersBySlashOnly?: boolean;
  /** The client the doctor registered (or was given), and its loopback redirect URI. */
  client?: {
    readonly clientId: string;
    readonly clientSecret?: string;
    readonly redirectUri: string;
    /** The registration answer, when the doctor registered it. */
    readonly registered?: Readonly<Record<string, unknown>>;
  };
  /** The scope a client would ask for: the challenge's, else the metadata's. */
  requestedScope?: string | undefined;
}

export function stringField(
  document: Readonly<Record<string, unknown>>,
  name: string,
): string | undefined {
  const value = document[name];
  return typeof value === 'string' ? value : undefined;
}

export function stringList(
  document: Readonly<Record<string, unknown>>,
  name: string,
): string[] | undefined {
  const value = document[name];
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
}

/** http is acceptable only on loopback hosts (development); everything else must be https. */
export function isSecureOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Whether two resource identifiers name the same resource as clients compare them: as URLs
 * (`new URL(a).href`), which folds scheme and host case, a default port and an empty path into
 * "/", and nothing else. `http://h:3000` and `http://h:3000/` are one resource (the MCP SDKs and
 * VS Code agree); `/mcp` and `/mcp/` are two.
 */
export function sameResource(a: unknown, b: string): boolean {
  if (typeof a !== 'string' || !URL.canParse(a) || !URL.canParse(b)) return false;
  return new URL(a).href === new URL(b).href;
}
