import { importJWK, type JWK } from 'jose';
import * as oidc from 'openid-client';
import type { UpstreamConfig } from './upstream-config.js';

/**
 * Gatehouse as the client of one upstream provider (openid-client): where to send the person
 * (authorization code, PKCE S256, `state`, and `nonce` with OpenID Connect), and the claims of
 * the person who comes back (the code exchanged, the ID token validated: signature, exact issuer,
 * audience, nonce, RFC 9207 `iss` when the provider offers it; then userinfo).
 *
 * The provider is discovered at the first sign-in, not at startup (an upstream that is down must
 * not stop Gatehouse), and again after a failed discovery.
 */

export interface PendingUpstreamSignIn {
  readonly codeVerifier: string;
  readonly state: string;
  /** OpenID Connect only. */
  readonly nonce?: string;
}

export interface UpstreamClient {
  readonly config: UpstreamConfig;
  /** Where the person signs in, and what the callback must be checked against. */
  begin(): Promise<{ readonly url: URL; readonly pending: PendingUpstreamSignIn }>;
  /** The claims of who signed in; rejects with openid-client's errors (upstream-errors.ts). */
  complete(callbackQuery: string, pending: PendingUpstreamSignIn): Promise<Record<string, unknown>>;
}

/** An upstream answer Gatehouse cannot use (openid-client checks the rest). */
export class UpstreamAnswerError extends Error {
  override readonly name = 'UpstreamAnswerError';
}

const DEFAULT_OIDC_SCOPES = ['openid', 'email', 'profile'];

export function createUpstreamClient(
  config: UpstreamConfig,
  options: { readonly redirectUri: string },
): UpstreamClient {
  const oidcMode = config.issuer !== undefined;
  const scopes = config.scopes ?? (oidcMode ? DEFAULT_OIDC_SCOPES : []);
  const insecure = [
    config.issuer,
    config.authorization_endpoint,
    config.token_endpoint,
    config.userinfo_endpoint,
  ].some((value) => value && new URL(value).protocol === 'http:');
  let configuration: Promise<oidc.Configuration> | undefined;

  const configure = async (): Promise<oidc.Configuration> => {
    const auth = await clientAuthentication(config);
    if (config.issuer) {
      return oidc.discovery(new URL(config.issuer), config.client_id, undefined, auth, {
        timeout: config.timeout,
        // Validated at startup: plain http only for loopback hosts.
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
    }
    const made = new oidc.Configuration(
      {
        // Plain OAuth 2.0 publishes no issuer; this name is never compared (see complete()).
        // (All three endpoints are required without an issuer: upstream-config.ts.)
        issuer: new URL(config.authorization_endpoint ?? '').origin,
        authorization_endpoint: config.authorization_endpoint ?? '',
        token_endpoint: config.token_endpoint ?? '',
        userinfo_endpoint: config.userinfo_endpoint ?? '',
      },
      config.client_id,
      undefined,
      auth,
    );
    made.timeout = config.timeout;
    if (insecure) oidc.allowInsecureRequests(made);
    // Plain OAuth 2.0 uses no ID token: one the provider adds anyway (it was asked for `openid`
    // so that its userinfo answers) is dropped unread, not validated against an issuer this mode
    // does not know.
    made[oidc.customFetch] = async (url, init) => {
      const response = await fetch(url, init as RequestInit);
      if (url !== config.token_endpoint || !response.ok) return response;
      const body = (await response.json().catch(() => undefined)) as
        | Record<string, unknown>
        | undefined;
      if (!body || typeof body !== 'object') return new Response('', response);
      const { id_token: _ignored, ...tokens } = body;
      return new Response(JSON.stringify(tokens), {
        status: response.status,
        headers: { 'content-type': 'application/json' },
      });
    };
    return made;
  };

  const current = () => {
    configuration ??= configure().catch((error: unknown) => {
      configuration = undefined; // the next sign-in discovers again
      throw error;
    });
    return configuration;
  };

  return {
    config,
    async begin() {
      const server = await current();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidcMode ? oidc.randomNonce() : undefined;
      const parameters: Record<string, string> = {
        redirect_uri: options.redirectUri,
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
        ...(nonce ? { nonce } : {}),
      };
      return {
        url: oidc.buildAuthorizationUrl(server, parameters),
        pending: { codeVerifier, state, ...(nonce ? { nonce } : {}) },
      };
    },
    async complete(callbackQuery, pending) {
      const server = await current();
      // The redirect URI as registered (never the request's own URL, which a proxy or an alias
      // host could change), with the provider's answer.
      const callback = new URL(options.redirectUri);
      callback.search = callbackQuery;
      // Plain OAuth 2.0 has no issuer to compare an `iss` with: the flow is tied to this upstream
      // by its one-time state instead.
      if (!oidcMode) callback.searchParams.delete('iss');
      const tokens = await oidc.authorizationCodeGrant(server, callback, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        ...(pending.nonce ? { expectedNonce: pending.nonce } : {}),
        idTokenExpected: oidcMode,
      });
      const idClaims = tokens.claims();
      const userinfoEndpoint = server.serverMetadata().userinfo_endpoint;
      if (idClaims) {
        if (!userinfoEndpoint) return { ...idClaims };
        const userinfo = await oidc.fetchUserInfo(server, tokens.access_token, idClaims.sub);
        // The ID token's claims win: they are signed.
        return { ...userinfo, ...idClaims };
      }
      // Plain OAuth 2.0: who signed in is what the userinfo URL answers for the access token (read
      // as JSON: GitHub's user has a numeric `id` and no `sub`, which an OIDC userinfo would need).
      const response = await oidc.fetchProtectedResource(
        server,
        tokens.access_token,
        new URL(userinfoEndpoint ?? ''),
        'GET',
        undefined,
        new Headers({ accept: 'application/json' }),
      );
      if (!response.ok) throw new UpstreamAnswerError(`userinfo answered ${response.status}`);
      const body: unknown = await response.json().catch(() => undefined);
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        throw new UpstreamAnswerError('userinfo did not answer a JSON object');
      return body as Record<string, unknown>;
    },
  };
}

async function clientAuthentication(config: UpstreamConfig): Promise<oidc.ClientAuth> {
  if (config.private_key_jwk) {
    const jwk = config.private_key_jwk as JWK;
    const alg = jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : jwk.kty === 'OKP' ? 'EdDSA' : 'RS256');
    const key = (await importJWK(jwk, alg)) as CryptoKey;
    return oidc.PrivateKeyJwt(jwk.kid ? { key, kid: jwk.kid } : key);
  }
  const secret = config.client_secret ?? '';
  return config.token_endpoint_auth_method === 'client_secret_post'
    ? oidc.ClientSecretPost(secret)
    : oidc.ClientSecretBasic(secret);
}
