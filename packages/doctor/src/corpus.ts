import { readdirSync, readFileSync } from 'node:fs';

/**
 * A real MCP client, as it really behaves, read from its public source code or from public issue
 * threads (never guessed): what it sends to register, authorize, exchange and refresh, and how it
 * reacts to 401 and 403. One JSON file per client in `corpus/`: tests/e2e's `compat.test.ts` replays
 * each against the real authorization server and MCP server, and `--as` judges a chain by them.
 */
export interface ClientFixture {
  /** The file name without `.json`, e.g. `go-sdk`. */
  readonly id: string;
  /** Display name, e.g. "MCP Go SDK". */
  readonly client: string;
  /** The version, tag or commit the facts were read at, e.g. "v1.8.0" or "main@3f2a1c0 (2026-11-20)". */
  readonly version: string;
  /** Where each fact comes from: repository + path + tag/commit, or an issue/PR URL. */
  readonly sources: ReadonlyArray<{ readonly fact: string; readonly url: string }>;
  readonly registration:
    | {
        readonly kind: 'dcr';
        /**
         * The exact JSON body of its RFC 7591 registration request. Redirect URIs are written as the
         * client writes them; `{port}` stands for a port the client picks at run time.
         */
        readonly body: Readonly<Record<string, unknown>>;
      }
    | {
        readonly kind: 'cimd';
        /**
         * Its Client ID Metadata Document. `client_id` is replaced by the URL the test serves it at;
         * redirect URIs as in `dcr`.
         */
        readonly document: Readonly<Record<string, unknown>>;
      };
  /**
   * The redirect URI it sends in the authorization request, e.g. `http://127.0.0.1:{port}/callback`,
   * `http://localhost:33418/`, `cursor://anysphere.cursor-mcp/oauth/callback`.
   */
  readonly redirectUri: string;
  readonly authorize: {
    /** Sends RFC 8707 `resource` (the MCP server URL). */
    readonly resource: boolean;
    /**
     * Which `scope` it sends: `challenge` (the `scope` of the 401's WWW-Authenticate), `metadata`
     * (`scopes_supported` of the protected resource metadata), `none` (no scope parameter), or a
     * literal string.
     */
    readonly scope: 'challenge' | 'metadata' | 'none' | string;
    /** Adds `offline_access` when the authorization server lists it in `scopes_supported`. */
    readonly addsOfflineAccess: boolean;
    /** The `prompt` value it sends, if any (e.g. `consent`). */
    readonly prompt?: string;
    /** `false` when it sends no `state` parameter (PKCE alone protects the redirect). */
    readonly state?: boolean;
  };
  readonly token: {
    readonly resource: boolean;
    /**
     * How it authenticates at the token endpoint: `none` (client_id only), with the
     * `client_secret` the registration answered, if any (`secret_post`, `secret_basic`), or with a
     * JWT signed by the key its metadata document's `jwks_uri` publishes (`private_key_jwt`; the
     * replay signs with a key of its own, served in place of the client's: the edge we cannot run).
     */
    readonly clientAuth: 'none' | 'secret_post' | 'secret_basic' | 'private_key_jwt';
  };
  readonly refresh: {
    /** Uses refresh tokens at all. */
    readonly supported: boolean;
    readonly resource: boolean;
    /** `none` (no scope), `granted` (the scope of the last token answer), `granted+offline_access`. */
    readonly scope: 'none' | 'granted' | 'granted+offline_access';
    /** Several refreshes with one refresh token at once (no single-flight). */
    readonly parallel: boolean;
  };
  /**
   * On 403 `insufficient_scope`: `union` (re-authorizes with the challenged scopes plus what it
   * holds), `challenge` (only the challenged scopes), `refresh` (refreshes the grant it holds and
   * retries, which cannot add a scope), `none` (gives up), `unknown`.
   */
  readonly stepUp: 'union' | 'challenge' | 'refresh' | 'none' | 'unknown';
  /** Facts that could not be found, said plainly instead of guessed. */
  readonly unknown: readonly string[];
  /**
   * The client's own limitations (documented, or plain in its source) that explain a failing step,
   * by name. With `step`, the replay asserts that step fails as `expect` says (a substring of
   * Gatehouse's answer) and stops there; it fails when the step passes (update the fixture then).
   */
  readonly limitations: ReadonlyArray<{
    readonly name: string;
    readonly url: string;
    readonly effect: string;
    readonly step?: ReplayStep;
    readonly expect?: string;
  }>;
  /**
   * The end-to-end test (path below tests/e2e) that runs this client's own OAuth code against the
   * real servers, beside this replay; absent when the client cannot run here (closed source, a
   * desktop app, a hosted service).
   */
  readonly ownCodeTest?: string;
  /** Quirks users of Gatehouse will meet (e.g. listens for its callback on port 3000). */
  readonly notes: readonly string[];
}

/** The steps of a replay, in order. */
export type ReplayStep =
  | 'registration'
  | 'authorization'
  | 'token'
  | 'tools/call'
  | 'refresh'
  | 'step-up';

/** The corpus directory: beside `src/` and `dist/` alike, shipped in the package. */
const CORPUS = new URL('../corpus/', import.meta.url);

let cached: readonly ClientFixture[] | undefined;

/** Every client of the corpus, sorted by id (read once per process). */
export function loadCorpus(): readonly ClientFixture[] {
  cached ??= readdirSync(CORPUS)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => JSON.parse(readFileSync(new URL(name, CORPUS), 'utf8')) as ClientFixture);
  return cached;
}

/**
 * The names of the corpus clients with a habit, for findings ("Cursor, Windsurf send no
 * resource"): always what the corpus says, never a list written twice.
 */
export function clientsThat(habit: (client: ClientFixture) => boolean): string {
  const names = loadCorpus()
    .filter(habit)
    .map((c) => c.client.replace(/ \(.*\)$/, ''));
  return names.length > 1
    ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`
    : (names[0] ?? 'no known client');
}
