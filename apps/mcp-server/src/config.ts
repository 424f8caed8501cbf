import { canonicalizeResourceUri, isLoopbackHostname } from '@gatehouse/auth-core';
import { type AuditLogDestination, auditLogDestination } from '@gatehouse/logging';
import { configProblem, type MetricsConfig, parseEnv } from '@gatehouse/server-kit';
import { z } from 'zod';

/**
 * The MCP server's configuration, from environment variables only (this module is the only reader
 * of `process.env`). Pointing it at another authorization server (Keycloak) is configuration, not
 * code. A bad value stops startup with a message naming the variable and the fix.
 */

const envSchema = z.object({
  MCP_RESOURCE: z.string().default('http://localhost:3000/mcp'),
  MCP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  MCP_BIND: z.string().optional(),
  MCP_METRICS_PORT: z.coerce
    .number({ error: 'MCP_METRICS_PORT must be a port number' })
    .int()
    .min(1)
    .max(65535)
    .optional(),
  MCP_METRICS_BIND: z.string().min(1).default('127.0.0.1'),
  MCP_METRICS_TOKEN: z
    .string()
    .min(16, "MCP_METRICS_TOKEN must have at least 16 characters (a scraper's bearer token)")
    .optional(),
  MCP_ALLOWED_ORIGINS: z.string().optional(),
  AUTH_ISSUER: z
    .url({
      protocol: /^https?$/,
      error: 'AUTH_ISSUER must be an absolute http(s) URL, e.g. http://localhost:4000',
    })
    .default('http://localhost:4000'),
  AUTH_MODE: z
    .enum(['jwt', 'introspection'], { error: 'AUTH_MODE must be "jwt" or "introspection"' })
    .default('jwt'),
  AUTH_AUDIENCE: z.string().optional(),
  AUTH_INTROSPECTION_CLIENT_ID: z.string().optional(),
  AUTH_INTROSPECTION_CLIENT_SECRET: z.string().optional(),
  AUTH_INTROSPECTION_CACHE_TTL: z.coerce
    .number({ error: 'AUTH_INTROSPECTION_CACHE_TTL must be a number of seconds' })
    .int()
    .min(0)
    .max(3600)
    .default(30),
  AUTH_ALLOW_PLAIN_JWT: z.stringbool().default(false),
  MCP_DPOP_REPLAY_STORE: z
    .string()
    .trim()
    .refine((value) => value === 'memory' || isRedisUrl(value), {
      // The value is not echoed: a Redis URL can carry a password.
      error:
        'MCP_DPOP_REPLAY_STORE must be "memory" or "redis://[user:password@]host:port[/db]" (rediss:// for TLS), e.g. redis://:password@10.0.0.5:6379/0',
    })
    .default('memory'),
  MCP_RATE_LIMIT: rateLimit('MCP_RATE_LIMIT', '600/1m'),
  MCP_CLIENT_RATE_LIMIT: rateLimit('MCP_CLIENT_RATE_LIMIT', 'off'),
  MCP_RATE_LIMIT_STORE: z
    .string()
    .trim()
    .refine((value) => value === 'memory' || isRedisUrl(value), {
      error:
        'MCP_RATE_LIMIT_STORE must be "memory" or "redis://[user:password@]host:port[/db]" (rediss:// for TLS), so that every instance counts together',
    })
    .default('memory'),
  MCP_AUDIT: z.stringbool({ error: 'MCP_AUDIT must be true or false' }).default(true),
  MCP_AUDIT_LOG: z
    .string()
    .min(1, 'MCP_AUDIT_LOG must be "stdout", "off" or a file path')
    .default('stdout'),
  MCP_AUDIT_ARGUMENTS: z
    .stringbool({ error: 'MCP_AUDIT_ARGUMENTS must be true or false' })
    .default(false),
  MCP_AUDIT_STORE: z
    .string()
    .refine((value) => /^sqlite:.+/.test(value) || isRedisUrl(value), {
      // The value is not echoed: a Redis URL can carry a password.
      error:
        'MCP_AUDIT_STORE must be the authorization server\'s AUTH_STORE, "sqlite:<path>" (the same file) or "redis://[user:password@]host:port[/db]", so that tool calls join its audit trail; leave it unset to keep them on the audit log stream only',
    })
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
});

const WINDOW_UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000 };

/** `<requests>/<window>` (`600/1m`, `20/10s`, `5000/1h`) or `off`. */
function rateLimit(name: string, fallback: string) {
  return z
    .string()
    .trim()
    .default(fallback)
    .transform((value, ctx) => {
      if (value === 'off') return undefined;
      const match = /^(\d{1,7})\/(\d{1,4})([smh])$/.exec(value);
      const limit = Number(match?.[1]);
      const windowMs = Number(match?.[2]) * (WINDOW_UNITS[match?.[3] ?? ''] ?? 0);
      if (!match || limit < 1 || windowMs < 1000 || windowMs > 86_400_000) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be "<requests>/<window>" with a window of 1s to 24h (e.g. 600/1m, 20/10s) or "off"`,
        });
        return z.NEVER;
      }
      return { limit, windowMs };
    });
}

/** `redis://` or `rediss://`, a host, an optional port and an optional numeric database. */
function isRedisUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (
    (url.protocol === 'redis:' || url.protocol === 'rediss:') &&
    url.hostname !== '' &&
    /^(\/\d*)?$/.test(url.pathname) &&
    url.search === '' &&
    url.hash === ''
  );
}

/** Where DPoP proof `jti`s are remembered; several instances behind a load balancer need `redis`. */
export interface RateLimitConfig {
  readonly limit: number;
  readonly windowMs: number;
}

export type DpopReplayStoreConfig =
  | { readonly kind: 'memory' }
  | { readonly kind: 'redis'; readonly url: string };

export interface Config {
  /** Canonical resource URI: the `aud` tokens must carry and the `resource` of the metadata. */
  readonly resource: string;
  readonly port: number;
  readonly bind: string;
  /** Prometheus /metrics: on a port of its own, and/or on the public port behind a token. */
  readonly metrics: MetricsConfig;
  /** Browser origins allowed to call /mcp (Origin header); others get 403. */
  readonly allowedOrigins: readonly string[];
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly mode: 'jwt' | 'introspection';
  readonly introspection: { readonly clientId: string; readonly clientSecret: string } | undefined;
  /** How long an introspection answer is reused (never past the token's exp); 0 = ask every time. */
  readonly introspectionCacheTtl: number;
  readonly allowPlainJwt: boolean;
  readonly dpopReplayStore: DpopReplayStoreConfig;
  /** Requests per token subject (a user, or a client acting on its own), and per client. */
  readonly rateLimits: {
    readonly subject: RateLimitConfig | undefined;
    readonly client: RateLimitConfig | undefined;
  };
  /** Where the counts live: this process, or a Redis every instance shares. */
  readonly rateLimitStore: DpopReplayStoreConfig;
  readonly log: { readonly level: string; readonly format: 'json' | 'pretty' };
  /** Tool calls on the audit log stream (tool-audit.ts): where, or off. */
  readonly audit: AuditLogDestination;
  /** Each tool call's arguments on the trail too (off by default: they may hold personal data). */
  readonly auditArguments: boolean;
  /** Where tool calls join the authorization server's audit trail (its AUTH_STORE), if anywhere. */
  readonly auditStore: string | undefined;
}

/** Every environment variable the server reads (its README and `.env.example` document each). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Config {
  const e = parseEnv(envSchema, env);
  let resource = '';
  try {
    resource = canonicalizeResourceUri(e.MCP_RESOURCE, 'MCP_RESOURCE');
  } catch (error) {
    configProblem(`${(error as Error).message}, e.g. http://localhost:3000/mcp`);
  }
  const url = new URL(resource);
  const loopback = isLoopbackHostname(url.hostname);
  if (url.protocol === 'http:' && !loopback)
    configProblem('MCP_RESOURCE: plain http is only allowed for loopback hosts; use https');
  if (
    e.AUTH_MODE === 'introspection' &&
    (!e.AUTH_INTROSPECTION_CLIENT_ID || !e.AUTH_INTROSPECTION_CLIENT_SECRET)
  ) {
    configProblem(
      'AUTH_INTROSPECTION_CLIENT_ID and AUTH_INTROSPECTION_CLIENT_SECRET are required when AUTH_MODE=introspection',
    );
  }
  const allowedOrigins = e.MCP_ALLOWED_ORIGINS
    ? e.MCP_ALLOWED_ORIGINS.split(',')
        .map((origin) => origin.trim())
        .filter(Boolean)
    : // Default: browser tools on this machine (MCP Inspector, local web clients), any port.
      ['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*'];
  for (const origin of allowedOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin))
      configProblem(
        `MCP_ALLOWED_ORIGINS: ${origin} is not an origin like https://app.example.com or http://localhost:*`,
      );
  }
  return {
    resource,
    port: e.MCP_PORT ?? (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80),
    bind: e.MCP_BIND ?? (loopback ? '127.0.0.1' : '0.0.0.0'),
    metrics: { port: e.MCP_METRICS_PORT, bind: e.MCP_METRICS_BIND, token: e.MCP_METRICS_TOKEN },
    allowedOrigins,
    issuer: e.AUTH_ISSUER.replace(/\/+$/, ''),
    audience: e.AUTH_AUDIENCE ? e.AUTH_AUDIENCE.split(',').map((a) => a.trim()) : [resource],
    mode: e.AUTH_MODE,
    introspection:
      e.AUTH_INTROSPECTION_CLIENT_ID && e.AUTH_INTROSPECTION_CLIENT_SECRET
        ? {
            clientId: e.AUTH_INTROSPECTION_CLIENT_ID,
            clientSecret: e.AUTH_INTROSPECTION_CLIENT_SECRET,
          }
        : undefined,
    introspectionCacheTtl: e.AUTH_INTROSPECTION_CACHE_TTL,
    allowPlainJwt: e.AUTH_ALLOW_PLAIN_JWT,
    dpopReplayStore:
      e.MCP_DPOP_REPLAY_STORE === 'memory'
        ? { kind: 'memory' }
        : { kind: 'redis', url: e.MCP_DPOP_REPLAY_STORE },
    rateLimits: { subject: e.MCP_RATE_LIMIT, client: e.MCP_CLIENT_RATE_LIMIT },
    rateLimitStore:
      e.MCP_RATE_LIMIT_STORE === 'memory'
        ? { kind: 'memory' }
        : { kind: 'redis', url: e.MCP_RATE_LIMIT_STORE },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json') },
    audit: e.MCP_AUDIT ? auditLogDestination(e.MCP_AUDIT_LOG) : 'off',
    auditStore: e.MCP_AUDIT ? e.MCP_AUDIT_STORE : undefined,
    auditArguments: e.MCP_AUDIT_ARGUMENTS,
  };
}
