import { foreignHost } from '../checks.js';
import type { AppName, PlannedRequest, SecretEntry } from '../plan.js';
import type { Random } from '../random.js';
import { type HeaderList, type HttpRequest, serializeRequest } from '../wire.js';
import type { FuzzContext } from './context.js';
import { encode } from './values.js';

/**
 * The request a generator describes (app, method, path, headers, body), turned into bytes, with
 * mutations of the envelope on top that apply to every endpoint alike: foreign or malformed Host,
 * X-Forwarded-*, absolute-form targets, repeated headers, HTTP/1.0, chunked bodies.
 */
export interface RequestSpec {
  readonly app: AppName;
  readonly method: string;
  /** Path and query as sent (already encoded, or deliberately not). */
  readonly target: string;
  /** Route for grouping findings, ids replaced (`/reg/:id`). */
  readonly route: string;
  readonly headers?: HeaderList;
  readonly body?: Buffer | string | undefined;
  readonly sentSecrets?: readonly SecretEntry[];
}

export function portOf(ctx: FuzzContext, app: AppName): number {
  return app === 'auth' ? ctx.authPort : ctx.mcpPort;
}

/** Larger than the authorization server's body limit (56 KiB). */
const LARGE_BODY = 56 * 1024;

/** Bytes that force a connection of its own: a header line or the target may be split by them. */
const FRAMING_BREAKERS = /[\r\n\0]/;

interface Envelope {
  target: string;
  version: string;
  headers: Array<[string, string]>;
  chunked: boolean;
  foreignHosts: string[];
}

function mutateHost(r: Random, ctx: FuzzContext, app: AppName, envelope: Envelope): void {
  const port = portOf(ctx, app);
  const evil = foreignHost(ctx.seed);
  const evilPort = `${evil}:${port}`;
  const choice = r.int(0, 21);
  const setHost = (...values: string[]) => {
    envelope.headers = envelope.headers.filter(([name]) => name.toLowerCase() !== 'host');
    for (const value of values) envelope.headers.unshift(['Host', value]);
  };
  switch (choice) {
    case 0:
      setHost(evil);
      envelope.foreignHosts.push(evil);
      break;
    case 1:
      setHost(evilPort);
      envelope.foreignHosts.push(evil);
      break;
    case 2:
      setHost(`localhost:${port}.x`);
      envelope.foreignHosts.push(`localhost:${port}.x`);
      break;
    case 3:
      setHost(`localhost:${port}.${evil}`);
      envelope.foreignHosts.push(evil);
      break;
    case 4:
      setHost(`localhost:${port}`, evilPort);
      envelope.foreignHosts.push(evil);
      break;
    case 5:
      setHost(`localhost:${port}@${evil}`);
      envelope.foreignHosts.push(evil);
      break;
    case 6:
      setHost(`${evil}#@localhost:${port}`);
      envelope.foreignHosts.push(evil);
      break;
    case 7:
      setHost(`localhost:${port}, ${evil}`);
      envelope.foreignHosts.push(evil);
      break;
    case 8:
      envelope.headers.push(['X-Forwarded-Host', evil]);
      envelope.headers.push(['X-Forwarded-Proto', r.pick(['https', 'http', 'gopher', ''])]);
      envelope.foreignHosts.push(evil);
      break;
    case 9:
      envelope.headers.push(['Forwarded', `for=127.0.0.1;host=${evil};proto=https`]);
      envelope.foreignHosts.push(evil);
      break;
    case 10:
      envelope.headers.push(['X-Forwarded-Host', `${evil}, localhost:${port}`]);
      envelope.headers.push(['X-Forwarded-Port', '443']);
      envelope.foreignHosts.push(evil);
      break;
    case 11:
      envelope.target = `http://${evilPort}${envelope.target}`;
      envelope.foreignHosts.push(evil);
      break;
    case 12:
      envelope.target = `http://localhost:${port}${envelope.target}`;
      break;
    case 13:
      envelope.target = `${r.pick(['HTTP', 'https', 'Http'])}://localhost:${port}${envelope.target}`;
      break;
    case 14:
      envelope.target = `http://user:pass@localhost:${port}${envelope.target}`;
      break;
    case 15:
      setHost(
        r.pick([
          '',
          ' ',
          `localhost:${port}:${port}`,
          `localhost:-1`,
          'localhost:99999',
          `[::1]:${port}`,
          `127.0.0.1:${port}`,
          `LOCALHOST:${port}`,
          'localhost',
          `localhost:${port}.`,
          `local\u00adhost:${port}`,
          '[::1',
          `localhost:${port}/path`,
          `%6cocalhost:${port}`,
        ]),
      );
      break;
    case 16:
      envelope.headers = envelope.headers.filter(([name]) => name.toLowerCase() !== 'host');
      break;
    case 17:
      setHost(`${'a'.repeat(r.pick([300, 5_000]))}.${evil}`);
      envelope.foreignHosts.push(evil);
      break;
    case 18:
      envelope.headers.push([
        'X-Forwarded-For',
        r.pick(['127.0.0.1', '1.2.3.4, 127.0.0.1', 'garbage', '::1', '', `${'9'.repeat(200)}`]),
      ]);
      envelope.headers.push(['X-Real-IP', '10.0.0.1']);
      break;
    case 19:
      envelope.target = `http://${evil}${envelope.target}`;
      setHost(evil);
      envelope.foreignHosts.push(evil);
      break;
    case 20:
      envelope.headers.push(['X-Original-URL', `http://${evil}/admin`]);
      envelope.headers.push(['X-Rewrite-URL', '/admin']);
      envelope.headers.push(['X-Forwarded-Server', evil]);
      envelope.foreignHosts.push(evil);
      break;
    default:
      // `evil.example`-style host with the app's port, in IPv6 brackets, upper case
      setHost(r.pick([`[${evil}]:${port}`, evilPort.toUpperCase(), `${evil}.:${port}`]));
      envelope.foreignHosts.push(evil);
  }
}

/**
 * The same route written differently: routers that ignore case or a trailing slash (oidc-provider's)
 * and middlewares that compare the path exactly (limits, guards) then disagree about it.
 */
function mutatePath(r: Random, target: string): string {
  const at = target.search(/[?#]/);
  const path = at < 0 ? target : target.slice(0, at);
  const rest = at < 0 ? '' : target.slice(at);
  // Case and a trailing slash most: the differences real routers disagree about.
  const mutated = r.weighted<string>([
    [path.toUpperCase(), 3],
    [path.replace(/\/(\w)/, (_, c: string) => `/${c.toUpperCase()}`), 2],
    [`${path}/`, 3],
    [`/${path}`, 1],
    [path.replace(/\/([^/]*)$/, '/./$1'), 1],
    [path.replace(/\/([^/]*)$/, '/x/../$1'), 1],
    [path.replace(/\//g, '%2F').replace(/^%2F/, '/'), 1],
    [path.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`), 1],
    [`${path};x=1`, 1],
  ]);
  return `${mutated}${rest}`;
}

function mutateHeaders(r: Random, envelope: Envelope): void {
  const choice = r.int(0, 9);
  const existing = envelope.headers[r.int(0, Math.max(0, envelope.headers.length - 1))];
  switch (choice) {
    case 0:
      if (existing) envelope.headers.push([existing[0], existing[1]]);
      break;
    case 1:
      if (existing) envelope.headers.push([existing[0].toUpperCase(), `${existing[1]}x`]);
      break;
    case 2:
      envelope.headers.push([
        'Connection',
        r.pick(['close', 'keep-alive', 'Upgrade', 'close, close', 'TE, close']),
      ]);
      break;
    case 3:
      envelope.headers.push([
        'X-Request-Id',
        r.pick(['abc', 'a'.repeat(500), '../../x', 'id with spaces', '\u00e9', '$(id)']),
      ]);
      break;
    case 4:
      envelope.headers.push([
        'Accept',
        r.pick([
          '*/*',
          'text/html',
          'application/json',
          '',
          'x'.repeat(10_000),
          'text/event-stream',
        ]),
      ]);
      break;
    case 5:
      envelope.headers.push([
        'Cookie',
        r.pick([
          'a=b',
          '_session=x; _session=y',
          `_session=${'x'.repeat(8_000)}`,
          '=;=;=',
          '_interaction=../../x',
          '\u00e9=\u00e9',
        ]),
      ]);
      break;
    case 6:
      envelope.headers.push(['Expect', r.pick(['100-continue', 'something-else'])]);
      break;
    case 7:
      envelope.headers.push([
        'Content-Encoding',
        r.pick(['gzip', 'deflate', 'br', 'identity', 'gzip, identity', 'x-unknown']),
      ]);
      break;
    case 8:
      for (let i = 0; i < r.int(50, 300); i++)
        envelope.headers.push([`X-Fuzz-${i}`, 'v'.repeat(r.int(0, 40))]);
      break;
    default:
      envelope.headers.push([
        'Origin',
        r.pick(['null', 'http://127.1:1', 'http://localhost:1', 'https://origin.fuzz.invalid']),
      ]);
  }
}

/** Turns a spec into a planned request, mutating its envelope now and then. */
export function finish(
  r: Random,
  ctx: FuzzContext,
  index: number,
  spec: RequestSpec,
): PlannedRequest {
  const port = portOf(ctx, spec.app);
  const body =
    spec.body === undefined
      ? undefined
      : Buffer.isBuffer(spec.body)
        ? spec.body
        : Buffer.from(spec.body, 'utf8');
  const envelope: Envelope = {
    target: spec.target,
    version: 'HTTP/1.1',
    headers: [
      ['Host', `localhost:${port}`],
      ...(spec.headers ?? []).map(([n, v]): [string, string] => [n, v]),
    ],
    chunked: false,
    foreignHosts: [],
  };
  // The path first: an absolute-form target made by the host mutations is built on it.
  if (r.chance(0.15)) envelope.target = mutatePath(r, envelope.target);
  if (r.chance(0.12)) mutateHost(r, ctx, spec.app, envelope);
  if (r.chance(0.08)) mutateHeaders(r, envelope);
  if (body && r.chance(0.05)) envelope.chunked = true;
  if (r.chance(0.02))
    envelope.version = r.pick([
      'HTTP/1.0',
      'HTTP/1.0',
      'HTTP/1.2',
      'HTTP/2.0',
      'HTTP/0.9',
      'http/1.1',
    ]);
  const request: HttpRequest = {
    method: spec.method,
    target: envelope.target,
    version: envelope.version,
    headers: envelope.headers,
    body,
    chunked: envelope.chunked,
  };
  const bytes = serializeRequest(request);
  const framingBroken =
    FRAMING_BREAKERS.test(envelope.target) ||
    /\s/.test(envelope.target) ||
    envelope.headers.some(
      ([name, value]) =>
        FRAMING_BREAKERS.test(name) || FRAMING_BREAKERS.test(value) || /[\s:]/.test(name),
    ) ||
    envelope.version !== 'HTTP/1.1' ||
    !/^[A-Z]+$/.test(spec.method);
  return {
    index,
    app: spec.app,
    endpoint: `${spec.method.length > 12 ? `${spec.method.slice(0, 12)}…` : spec.method} ${spec.route}`,
    bytes,
    methods: [spec.method],
    // Broken framing: a connection of its own, so one exchange cannot desynchronise the next. A
    // body over the servers' limits mostly too: one they refuse without reading it all can leave
    // the connection unusable, which the quarter sent on a kept-alive connection shows, without
    // every such request costing a timeout.
    fresh: framingBroken || (bytes.length > LARGE_BODY && r.chance(0.75)),
    halfClose: false,
    expect: 'answer',
    foreignHosts: envelope.foreignHosts,
    sentSecrets: spec.sentSecrets ?? [],
  };
}

/** Query string from pairs (repeats kept), each part encoded unless `raw` says otherwise. */
export function query(pairs: ReadonlyArray<readonly [string, string]>, raw = false): string {
  if (pairs.length === 0) return '';
  const encodePart = raw ? (value: string) => value : encode;
  return `?${pairs.map(([key, value]) => `${encodePart(key)}=${encodePart(value)}`).join('&')}`;
}

/** A form body from pairs (repeats kept). */
export function form(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([key, value]) => `${encode(key)}=${encode(value)}`).join('&');
}
