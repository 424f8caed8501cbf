import type { IncomingHttpHeaders } from 'node:http';

/**
 * Client authentication for the one caller that introspects all day, a resource server configured
 * in AUTH_CLIENTS sending its secret in a Basic header or in the form body, ahead of oidc-provider's
 * introspection route, whose middleware chain costs more than the introspection of a JWT itself
 * (about 1,500 against 2,850 requests/s on the bench machine; BENCHMARKS.md).
 *
 * Accept-only: anything it does not recognise with certainty (another client or method, a wrong or
 * expired secret, a repeated or unexpected parameter, both mechanisms at once, a malformed header,
 * a browser Origin, client attestation, a query string) returns undefined, and the request goes to
 * the provider, which authenticates, answers and logs it as it does every other request. It reads
 * the client the provider would (`findClient`: its `Client.find`) and compares the secret with
 * that client's own constant-time comparison; the header rules are the provider's
 * (lib/shared/client_auth.js), so nothing is accepted here that the provider would refuse.
 */

/** A client as the provider's `Client.find` gives it: what this check reads. */
export interface SecretClient {
  readonly clientId: string;
  readonly clientAuthMethod?: string | undefined;
  readonly clientSecretExpiresAt?: number | undefined;
  compareClientSecret(secret: string): boolean | Promise<boolean>;
}

export interface ConfiguredClientAuthOptions {
  readonly configuredIds: ReadonlySet<string>;
  readonly findClient: (clientId: string) => Promise<SecretClient | undefined>;
}

const INTROSPECTION_PARAMS = new Set(['token', 'token_type_hint', 'client_id', 'client_secret']);
const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post']);
/** Requests whose handling is the provider's alone (CORS, client attestation). */
const PROVIDER_HEADERS = ['origin', 'oauth-client-attestation', 'oauth-client-attestation-pop'];
/** RFC 6749 §A.1-A.2: client ids and secrets are VSCHAR (%x20-7E). */
const NOT_VSCHAR = /[^\x20-\x7E]/;

export async function configuredSecretClient(
  request: { readonly headers: IncomingHttpHeaders; readonly querystring: string },
  params: URLSearchParams,
  options: ConfiguredClientAuthOptions,
): Promise<SecretClient | undefined> {
  if (request.querystring !== '') return undefined;
  if (PROVIDER_HEADERS.some((name) => request.headers[name] !== undefined)) return undefined;
  const names = [...params.keys()];
  if (names.some((name) => !INTROSPECTION_PARAMS.has(name))) return undefined;
  if (new Set(names).size !== names.length) return undefined;
  const credentials = credentialsOf(request.headers.authorization, params);
  if (!credentials || !options.configuredIds.has(credentials.clientId)) return undefined;
  const client = await options.findClient(credentials.clientId);
  if (!client || !SECRET_METHODS.has(client.clientAuthMethod ?? '')) return undefined;
  if (client.clientSecretExpiresAt) return undefined;
  return (await client.compareClientSecret(credentials.secret)) ? client : undefined;
}

interface Credentials {
  readonly clientId: string;
  readonly secret: string;
}

/** The one mechanism used: client_secret_post, or a Basic header (with no secret in the body). */
function credentialsOf(
  authorization: string | undefined,
  params: URLSearchParams,
): Credentials | undefined {
  const bodyId = params.get('client_id') ?? undefined;
  const bodySecret = params.get('client_secret') ?? undefined;
  if (authorization === undefined)
    return bodyId && bodySecret ? { clientId: bodyId, secret: bodySecret } : undefined;
  if (bodySecret !== undefined) return undefined;
  const basic = basicCredentials(authorization);
  if (!basic || (bodyId !== undefined && bodyId !== basic.clientId)) return undefined;
  return basic;
}

/** RFC 6749 §2.3.1: `Basic base64(form-encoded id ":" form-encoded secret)`. */
function basicCredentials(authorization: string): Credentials | undefined {
  const parts = authorization.split(' ');
  if (parts.length !== 2 || parts[0]?.toLowerCase() !== 'basic') return undefined;
  const encoded = parts[1] ?? '';
  if (!isStrictBase64(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  return clientId && secret ? { clientId, secret } : undefined;
}

/** Base64 with only the padding its length allows, as the provider checks it. */
function isStrictBase64(value: string): boolean {
  const match = /^([A-Za-z0-9+/]*)(={0,2})$/.exec(value);
  const data = match?.[1];
  const padding = match?.[2] ?? '';
  if (!data) return false;
  const remainder = data.length % 4;
  if (!padding) return remainder !== 1;
  return (data.length + padding.length) % 4 === 0 && padding.length === 4 - remainder;
}

function formDecode(value: string): string | undefined {
  try {
    const decoded = decodeURIComponent(value.replace(/\+/g, '%20'));
    return NOT_VSCHAR.test(decoded) ? undefined : decoded;
  } catch {
    return undefined;
  }
}
