import {
  canonicalizeResourceUri,
  isLoopbackHostname,
  isScopeToken,
  tryCanonicalizeResourceUri,
} from '@gatehouse/auth-core';
import { type AuditLogDestination, auditLogDestination } from '@gatehouse/logging';
import { configProblem, type MetricsConfig, parseEnv } from '@gatehouse/server-kit';
import { z } from 'zod';
import {
  FEDERATION_EXAMPLE,
  type UpstreamConfig,
  upstreamProblems,
  upstreamSchema,
} from './federation/upstream-config.js';
import { ACCOUNT_CLIENT_ID } from './provider/account-client.js';
import { COMPAT_MODES, type Compat } from './provider/routes.js';

/**
 * The authorization server's configuration, from environment variables only. This module is the
 * only reader of `process.env`; every variable is documented in the README and `.env.example`.
 * A bad value stops startup with a message naming the variable and the fix.
 */

/** A number of seconds; positive unless `bounds.min` is 0, at most `bounds.max` (with why). */
const seconds = (
  name: string,
  fallback: number,
  bounds: {
    readonly min?: 0;
    readonly max?: { readonly value: number; readonly why: string };
  } = {},
) => {
  const whole = z.coerce
    .number({ error: `${name} must be a number of seconds` })
    .int(`${name} must be a whole number of seconds`);
  const low =
    bounds.min === 0
      ? whole.min(0, `${name} must be 0 or more`)
      : whole.positive(`${name} must be positive`);
  const high = bounds.max
    ? low.max(
        bounds.max.value,
        `${name} must be at most ${bounds.max.value} seconds: ${bounds.max.why}`,
      )
    : low;
  return high.default(fallback);
};

const scope = z
  .string()
  .refine(isScopeToken, 'is not a valid scope (no spaces, quotes or backslashes)');

const resourceSchema = z.object({
  resource: z.string().transform((value, ctx) => {
    try {
      return canonicalizeResourceUri(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  scopes: z.array(scope).min(1, 'needs at least one scope'),
  /** Granted when a request names this resource but no scope; default: all of `scopes`. */
  defaultScopes: z.array(scope).optional(),
  accessTokenTtl: z.number().int().positive().optional(),
  /** `jwt` (default) or `opaque` (revocable at once, checked by introspection). */
  accessTokenFormat: z.enum(['jwt', 'opaque']).default('jwt'),
});
export type ResourceConfig = z.output<typeof resourceSchema>;

const clientSchema = z.object({
  client_id: z.string().min(1),
  client_secret: z.string().min(16, 'client_secret must be at least 16 characters').optional(),
  client_name: z.string().optional(),
  redirect_uris: z.array(z.string()).default([]),
  grant_types: z.array(z.string()).optional(),
  response_types: z.array(z.string()).optional(),
  token_endpoint_auth_method: z.string().optional(),
  /** private_key_jwt: the client's public keys, inline or where to fetch them. */
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
  jwks_uri: z.url({ protocol: /^https?$/, error: 'jwks_uri must be an http(s) URL' }).optional(),
  token_endpoint_auth_signing_alg: z.string().optional(),
  application_type: z.enum(['web', 'native']).optional(),
  scope: z.string().optional(),
});
export type StaticClientConfig = z.output<typeof clientSchema>;

const json = <T extends z.ZodType>(name: string, schema: T, example: string) =>
  z.string().transform((raw, ctx): z.output<T> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${name} must be JSON, e.g. ${example}` });
      return z.NEVER;
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      for (const issue of result.error.issues) {
        ctx.addIssue({
          code: 'custom',
          message: `${name}${issue.path.map((p) => `[${String(p)}]`).join('')}: ${issue.message}`,
        });
      }
      return z.NEVER;
    }
    return result.data;
  });

const DEFAULT_RESOURCES = JSON.stringify([
  {
    resource: 'http://localhost:3000/mcp',
    scopes: ['mcp:tools', 'mcp:admin'],
    defaultScopes: ['mcp:tools'],
  },
]);

const envSchema = z.object({
  AUTH_ISSUER: z
    .url({
      protocol: /^https?$/,
      error: 'AUTH_ISSUER must be an absolute http(s) URL, e.g. http://localhost:4000',
    })
    .default('http://localhost:4000'),
  AUTH_COMPAT: z
    .enum(COMPAT_MODES, {
      error: `AUTH_COMPAT must be ${COMPAT_MODES.map((mode) => `"${mode}"`).join(' or ')}, e.g. keycloak for Keycloak's URL layout`,
    })
    .default('none'),
  AUTH_REALM: z
    .string()
    .regex(
      /^[A-Za-z0-9._-]+$/,
      'AUTH_REALM must be a realm name of letters, digits, . _ - (it becomes a URL path segment), e.g. mcp',
    )
    .refine(
      (realm) => realm !== '.' && realm !== '..',
      'AUTH_REALM must not be "." or ".." (URL paths would collapse it), e.g. mcp',
    )
    .optional(),
  AUTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  AUTH_BIND: z.string().optional(),
  AUTH_METRICS_PORT: z.coerce
    .number({ error: 'AUTH_METRICS_PORT must be a port number' })
    .int()
    .min(1)
    .max(65535)
    .optional(),
  AUTH_METRICS_BIND: z.string().min(1).default('127.0.0.1'),
  AUTH_METRICS_TOKEN: z
    .string()
    .min(16, "AUTH_METRICS_TOKEN must have at least 16 characters (a scraper's bearer token)")
    .optional(),
  AUTH_PROXY: z.stringbool().default(false),
  AUTH_RESOURCES: json(
    'AUTH_RESOURCES',
    z.array(resourceSchema).min(1),
    DEFAULT_RESOURCES,
  ).prefault(DEFAULT_RESOURCES),
  AUTH_DEFAULT_RESOURCE: z.string().optional(),
  AUTH_USERS: z.string().optional(),
  AUTH_ADMINS: z
    .string()
    .optional()
    .transform(
      (value) =>
        value
          ?.split(',')
          .map((name) => name.trim())
          .filter(Boolean) ?? [],
    ),
  AUTH_CLIENTS: json(
    'AUTH_CLIENTS',
    z
      .array(clientSchema)
      .refine(
        (clients) => new Set(clients.map((c) => c.client_id)).size === clients.length,
        'each client needs its own client_id (one is listed twice)',
      )
      .refine(
        (clients) => !clients.some((c) => c.client_id === ACCOUNT_CLIENT_ID),
        `client_id "${ACCOUNT_CLIENT_ID}" is the account page's own client: name yours differently`,
      ),
    '[{"client_id":"mcp-server","client_secret":"<16 or more characters>"}]',
  ).default([]),
  AUTH_FEDERATION: json('AUTH_FEDERATION', z.array(upstreamSchema), FEDERATION_EXAMPLE).default([]),
  AUTH_STORE: z
    .string()
    .regex(
      /^(memory|sqlite:.+|rediss?:\/\/.+)$/,
      'AUTH_STORE must be "memory", "sqlite:<path>" or "redis://[user:password@]host:port[/db]", e.g. sqlite:.data/auth.db',
    )
    .default('sqlite:.data/auth.db'),
  // 15 min, not 5: VS Code refreshes any token expiring within 5 min on every use (docs/refresh.md).
  AUTH_ACCESS_TOKEN_TTL: seconds('AUTH_ACCESS_TOKEN_TTL', 900),
  // Idle limit: each rotation starts it again. A day signed people out after every weekend.
  AUTH_REFRESH_TOKEN_TTL: seconds('AUTH_REFRESH_TOKEN_TTL', 14 * 86_400),
  AUTH_CODE_TTL: seconds('AUTH_CODE_TTL', 60),
  AUTH_SESSION_TTL: seconds('AUTH_SESSION_TTL', 14 * 86_400),
  AUTH_ALWAYS_ISSUE_REFRESH_TOKEN: z.stringbool().default(true),
  // Seconds a rotated-out refresh token still refreshes (racing and retried refreshes); 0 = never.
  AUTH_REFRESH_REUSE_INTERVAL: seconds('AUTH_REFRESH_REUSE_INTERVAL', 30, {
    min: 0,
    max: {
      value: 300,
      why: 'a longer interval lets a stolen refresh token be replayed without revoking anything; races take seconds, 30 is the default',
    },
  }),
  AUTH_MAX_CLIENTS: z.coerce
    .number({ error: 'AUTH_MAX_CLIENTS must be a number' })
    .int()
    .positive()
    .default(10_000),
  AUTH_CLIENT_IDLE_TTL: seconds('AUTH_CLIENT_IDLE_TTL', 30 * 86_400),
  AUTH_REGISTRATION_RATE_LIMIT: z.coerce
    .number({ error: 'AUTH_REGISTRATION_RATE_LIMIT must be a number' })
    .int()
    .positive()
    .default(30),
  AUTH_TOKEN_RATE_LIMIT: z.coerce
    .number({ error: 'AUTH_TOKEN_RATE_LIMIT must be a number' })
    .int()
    .positive()
    .default(1200),
  AUTH_CIMD: z.stringbool().default(true),
  AUTH_KEY_REFRESH_INTERVAL: seconds('AUTH_KEY_REFRESH_INTERVAL', 30),
  AUTH_CIMD_ALLOWED_HOSTS: z.string().optional(),
  AUTH_DEV: z.stringbool().optional(),
  AUTH_AUDIT: z.stringbool({ error: 'AUTH_AUDIT must be true or false' }).default(true),
  AUTH_AUDIT_LOG: z
    .string()
    .min(1, 'AUTH_AUDIT_LOG must be "stdout", "off" or a file path')
    .default('stdout'),
  // 90 days by default; at most ten years.
  AUTH_AUDIT_RETENTION: seconds('AUTH_AUDIT_RETENTION', 90 * 86_400, {
    max: { value: 10 * 365 * 86_400, why: 'a trail is kept for a bounded time' },
  }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
});

export interface User {
  readonly username: string;
  readonly password: string;
}

/** Where the state lives: embedded SQLite (a file, or memory for tests) or a shared Redis. */
export type StoreLocation =
  | { readonly kind: 'memory' }
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'redis'; readonly url: string };

export interface Config {
  /** With `keycloak` compatibility: `<AUTH_ISSUER origin>/realms/<AUTH_REALM>`. */
  readonly issuer: string;
  /** URL layout: Gatehouse's own, or Keycloak's (see provider/routes.ts). */
  readonly compat: Compat;
  /** The Keycloak realm name with `compat: 'keycloak'`, else undefined. */
  readonly realm: string | undefined;
  readonly port: number;
  readonly bind: string;
  /** Prometheus /metrics: on a port of its own, and/or on the public port behind a token. */
  readonly metrics: MetricsConfig;
  readonly proxy: boolean;
  /** Loopback issuer over plain http: dev conveniences (printed dev user) are on. */
  readonly dev: boolean;
  readonly resources: readonly ResourceConfig[];
  readonly defaultResource: string;
  readonly users: readonly User[];
  /** Accounts that may use the admin console (/admin): local usernames or federated account ids. */
  readonly admins: readonly string[];
  readonly clients: readonly StaticClientConfig[];
  /** Upstream identity providers people may sign in with (federation/). */
  readonly federation: readonly UpstreamConfig[];
  readonly store: StoreLocation;
  readonly ttl: {
    readonly accessToken: number;
    readonly refreshToken: number;
    readonly code: number;
    readonly session: number;
  };
  readonly alwaysIssueRefreshToken: boolean;
  /** Seconds after its first use during which a refresh token still refreshes (0: none). */
  readonly refreshReuseIntervalSeconds: number;
  /** How often (s) the signing keys are re-read from the store, to pick up rotations. */
  readonly keyRefreshSeconds: number;
  readonly registration: {
    readonly maxClients: number;
    readonly clientIdleTtl: number;
    readonly ratePerIpPer10Min: number;
  };
  /** Token endpoint requests per client IP per minute. */
  readonly tokenRatePerIpPerMinute: number;
  readonly log: { readonly level: string; readonly format: 'json' | 'pretty' };
  /**
   * The audit trail (audit/): on or off; its log stream (`stdout` with the other logs, tagged
   * `stream: audit`, a file of its own, or off); how long the store keeps it (s).
   */
  readonly audit: {
    readonly enabled: boolean;
    readonly log: AuditLogDestination;
    readonly retentionSeconds: number;
  };
  /** Client ID Metadata Documents: on/off, and hosts exempt from the private-address block (dev only). */
  readonly cimd: { readonly enabled: boolean; readonly allowedPrivateHosts: readonly string[] };
}

/**
 * Every environment variable the server and its CLI read (the README and `.env.example` document
 * each); the CLI's password is not part of `Config` (see `cliPassword`).
 */
export const CONFIG_VARIABLES: readonly string[] = [
  ...Object.keys(envSchema.shape),
  'GATEHOUSE_PASSWORD',
];

/** The password for `cli users add`, when given by environment rather than on stdin. */
export function cliPassword(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  return env.GATEHOUSE_PASSWORD || undefined;
}

/** Parses the environment into a {@link Config}, or throws `ConfigError` listing every problem. */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Config {
  const e = parseEnv(envSchema, env);
  const issuerUrl = new URL(e.AUTH_ISSUER);
  const loopback = isLoopbackHostname(issuerUrl.hostname);
  if (issuerUrl.protocol === 'http:' && !loopback && !e.AUTH_PROXY) {
    configProblem(
      `AUTH_ISSUER: plain http is only allowed for loopback issuers (localhost, 127.0.0.1, [::1]); use https, or set AUTH_PROXY=true behind a TLS-terminating proxy`,
    );
  }
  if (issuerUrl.search || issuerUrl.hash) {
    configProblem('AUTH_ISSUER: must not have a query or fragment');
  }
  const keycloak = e.AUTH_COMPAT === 'keycloak';
  if (e.AUTH_REALM !== undefined && !keycloak) {
    configProblem(
      'AUTH_REALM: only used with AUTH_COMPAT=keycloak; set AUTH_COMPAT=keycloak, or remove AUTH_REALM',
    );
  }
  if (keycloak && issuerUrl.pathname !== '/') {
    configProblem(
      `AUTH_ISSUER: with AUTH_COMPAT=keycloak it must be an origin without a path (the issuer becomes <origin>/realms/<AUTH_REALM>); set AUTH_ISSUER=${issuerUrl.origin} and AUTH_REALM to the realm name`,
    );
  }
  const realm = keycloak ? (e.AUTH_REALM ?? 'mcp') : undefined;
  const defaultPort = issuerUrl.port
    ? Number(issuerUrl.port)
    : issuerUrl.protocol === 'https:'
      ? 443
      : 80;
  const resources = e.AUTH_RESOURCES;
  const seen = new Set<string>();
  for (const r of resources) {
    if (seen.has(r.resource)) configProblem(`AUTH_RESOURCES: ${r.resource} is listed twice`);
    seen.add(r.resource);
    for (const s of r.defaultScopes ?? []) {
      if (!r.scopes.includes(s)) {
        configProblem(`AUTH_RESOURCES: default scope ${s} of ${r.resource} is not in its scopes`);
      }
    }
  }
  let defaultResource = resources[0]?.resource ?? '';
  if (e.AUTH_DEFAULT_RESOURCE) {
    let canonical: string;
    try {
      canonical = canonicalizeResourceUri(e.AUTH_DEFAULT_RESOURCE);
    } catch (error) {
      configProblem(`AUTH_DEFAULT_RESOURCE: ${(error as Error).message}`);
    }
    if (!seen.has(canonical)) {
      configProblem(`AUTH_DEFAULT_RESOURCE: ${canonical} is not one of AUTH_RESOURCES`);
    }
    defaultResource = canonical;
  }
  const federation = e.AUTH_FEDERATION.map((upstream) => ({
    ...upstream,
    ...(upstream.scope_grants && {
      scope_grants: upstream.scope_grants.map((grant) => ({
        ...grant,
        ...(grant.resource !== undefined && {
          resource: tryCanonicalizeResourceUri(grant.resource) ?? grant.resource,
        }),
      })),
    }),
  }));
  const federationProblems = upstreamProblems(
    federation,
    resources,
    (resource) => (seen.has(resource) ? resource : undefined),
    isLoopbackHostname,
  );
  if (federationProblems.length > 0) configProblem(federationProblems.join('\n'));
  return {
    // oidc-provider and every client compare the issuer exactly: one spelling, without a trailing slash.
    issuer: realm ? `${issuerUrl.origin}/realms/${realm}` : e.AUTH_ISSUER.replace(/\/+$/, ''),
    compat: e.AUTH_COMPAT,
    realm,
    port: e.AUTH_PORT ?? defaultPort,
    bind: e.AUTH_BIND ?? (loopback ? '127.0.0.1' : '0.0.0.0'),
    metrics: { port: e.AUTH_METRICS_PORT, bind: e.AUTH_METRICS_BIND, token: e.AUTH_METRICS_TOKEN },
    proxy: e.AUTH_PROXY,
    dev: e.AUTH_DEV ?? (loopback && issuerUrl.protocol === 'http:'),
    resources,
    defaultResource,
    users: parseUsers(e.AUTH_USERS),
    admins: e.AUTH_ADMINS,
    clients: e.AUTH_CLIENTS,
    federation,
    store:
      e.AUTH_STORE === 'memory'
        ? { kind: 'memory' }
        : e.AUTH_STORE.startsWith('sqlite:')
          ? { kind: 'sqlite', path: e.AUTH_STORE.slice('sqlite:'.length) }
          : { kind: 'redis', url: e.AUTH_STORE },
    ttl: {
      accessToken: e.AUTH_ACCESS_TOKEN_TTL,
      refreshToken: e.AUTH_REFRESH_TOKEN_TTL,
      code: e.AUTH_CODE_TTL,
      session: e.AUTH_SESSION_TTL,
    },
    alwaysIssueRefreshToken: e.AUTH_ALWAYS_ISSUE_REFRESH_TOKEN,
    refreshReuseIntervalSeconds: e.AUTH_REFRESH_REUSE_INTERVAL,
    keyRefreshSeconds: e.AUTH_KEY_REFRESH_INTERVAL,
    tokenRatePerIpPerMinute: e.AUTH_TOKEN_RATE_LIMIT,
    registration: {
      maxClients: e.AUTH_MAX_CLIENTS,
      clientIdleTtl: e.AUTH_CLIENT_IDLE_TTL,
      ratePerIpPer10Min: e.AUTH_REGISTRATION_RATE_LIMIT,
    },
    cimd: {
      enabled: e.AUTH_CIMD,
      allowedPrivateHosts: (e.AUTH_CIMD_ALLOWED_HOSTS ?? '')
        .split(',')
        .map((host) => host.trim().toLowerCase())
        .filter(Boolean),
    },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json') },
    audit: {
      enabled: e.AUTH_AUDIT,
      log: auditLogDestination(e.AUTH_AUDIT_LOG),
      retentionSeconds: e.AUTH_AUDIT_RETENTION,
    },
  };
}

function parseUsers(raw: string | undefined): User[] {
  if (!raw) return [];
  return raw.split(',').map((entry) => {
    const colon = entry.indexOf(':');
    const username = entry.slice(0, colon).trim();
    const password = entry.slice(colon + 1);
    if (colon <= 0 || !/^[\w.@-]{1,64}$/.test(username) || password.length < 8) {
      configProblem(
        'AUTH_USERS: expected comma-separated username:password pairs (usernames of letters, digits, . _ @ -; passwords of 8+ characters), e.g. alice:alice-password,bob:bob-password',
      );
    }
    return { username, password };
  });
}
