import type { Evidence } from './report.js';

/**
 * One HTTP exchange with the server under diagnosis, never following redirects (the doctor judges
 * each hop), and its evidence as text with every credential redacted: the report is meant to be
 * pasted into issues and CI logs.
 */
export interface Exchange {
  readonly url: string;
  readonly method: string;
  /** 0 when no answer came (connection refused, timeout, TLS). */
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body when it is JSON, else undefined. */
  readonly json: unknown;
  /** Why no answer came, when `status` is 0. */
  readonly error?: string;
  readonly evidence: Evidence;
}

export interface ExchangeInit {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | URLSearchParams;
  readonly timeoutMs?: number;
}

const SECRET_PARAMS = [
  'access_token',
  'refresh_token',
  'id_token',
  'code',
  'code_verifier',
  'client_secret',
  'client_assertion',
  'registration_access_token',
];
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'dpop']);
const SHOWN_BODY = 600;
const REDACTED = '[redacted]';

/** Replaces credential values in a form body, a query string or a JSON text. */
export function redact(text: string): string {
  // Any JWT, wherever it appears (a token under another name, an error echoing one).
  let out = text.replace(/eyJ[\w-]*\.[\w-]+\.[\w-]*/g, REDACTED);
  for (const name of SECRET_PARAMS) {
    out = out
      .replace(new RegExp(`("${name}"\\s*:\\s*)"[^"]*"`, 'g'), `$1"${REDACTED}"`)
      .replace(new RegExp(`([?&]|^)(${name}=)[^&\\s#]*`, 'g'), `$1$2${REDACTED}`);
  }
  return out;
}

function headerLines(headers: Iterable<[string, string]>): string {
  const lines: string[] = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    lines.push(
      `${lower}: ${SECRET_HEADERS.has(lower) ? redactHeader(lower, value) : redact(value)}`,
    );
  }
  return lines.join('\n');
}

function redactHeader(name: string, value: string): string {
  if (name === 'authorization') return value.replace(/^(\S+\s+).*$/, `$1${REDACTED}`);
  return REDACTED;
}

const SHOWN_RESPONSE_HEADERS = [
  'location',
  'www-authenticate',
  'content-type',
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'mcp-session-id',
];

/** Redacted first, then clipped: clipping first could cut a token's closing quote off its name. */
function shown(text: string): string {
  const redacted = redact(text);
  return redacted.length > SHOWN_BODY ? `${redacted.slice(0, SHOWN_BODY)}…` : redacted;
}

/**
 * Hosts the doctor never sends a request to, whatever the server's metadata names: link-local
 * addresses and cloud metadata services. A hostile server could otherwise point its metadata or
 * JWKS URL there and have the answer (instance credentials) printed in a report pasted into CI.
 */
export function forbiddenHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    /^169\.254\.\d{1,3}\.\d{1,3}$/.test(host) ||
    /^fe[89ab][0-9a-f]:/.test(host) ||
    host === 'metadata.google.internal' ||
    host === '100.100.100.200' ||
    host === 'fd00:ec2::254'
  );
}

export async function exchange(url: string, init: ExchangeInit = {}): Promise<Exchange> {
  const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
  const body = init.body === undefined ? undefined : String(init.body);
  const headers: Record<string, string> = {
    'user-agent': 'gatehouse-doctor',
    ...(init.body instanceof URLSearchParams
      ? { 'content-type': 'application/x-www-form-urlencoded' }
      : {}),
    ...init.headers,
  };
  const sentHeaders = headerLines(
    Object.entries(headers).filter(([name]) => name !== 'user-agent'),
  );
  const request = `${method} ${redact(url)}${sentHeaders ? `\n${sentHeaders}` : ''}${body ? `\n\n${shown(body)}` : ''}`;
  if (URL.canParse(url) && forbiddenHost(new URL(url).hostname))
    return noAnswer(url, method, request, 'not fetched: a link-local or cloud metadata address');
  try {
    const response = await fetch(url, {
      method,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const kept = SHOWN_RESPONSE_HEADERS.flatMap((name): Array<[string, string]> => {
      const value = response.headers.get(name);
      return value === null ? [] : [[name, value]];
    });
    const responseText = [
      `HTTP ${response.status}`,
      headerLines(kept),
      text ? `\n${shown(text)}` : '',
    ]
      .filter(Boolean)
      .join('\n');
    return {
      url,
      method,
      status: response.status,
      headers: response.headers,
      text,
      json,
      evidence: { request, response: responseText },
    };
  } catch (error) {
    return noAnswer(url, method, request, describeNetworkError(error));
  }
}

function noAnswer(url: string, method: string, request: string, reason: string): Exchange {
  return {
    url,
    method,
    status: 0,
    headers: new Headers(),
    text: '',
    json: undefined,
    error: reason,
    evidence: { request, response: `no answer: ${reason}` },
  };
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    if (error.name === 'TimeoutError') return 'timed out after 10 s';
    if (cause instanceof Error) return `${error.message}: ${cause.message}`;
    return error.message;
  }
  return String(error);
}

/** The body as a plain object, when it is one. */
export function jsonObject(exchange: Exchange): Record<string, unknown> | undefined {
  const value = exchange.json;
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
