import type { AuditTrail } from '@gatehouse/audit';
import type { JWK } from 'jose';
import Provider, {
  type Configuration,
  errors,
  type KoaContextWithOIDC,
  type ResponseType,
} from 'oidc-provider';
import type { Accounts } from '../accounts/accounts.js';
import { redirectHosts } from '../audit/provider-audit.js';
import type { Config } from '../config.js';
import type { Federation } from '../federation/federation.js';
import { adapterClass, type Store } from '../store/store.js';
import { pageCsp, renderErrorPage, renderLoggedOut, renderLogout } from '../ui/pages.js';
import { ACCOUNT_CLIENT_ID, accountClientMetadata } from './account-client.js';
import { applyRegistrationPolicy, POLICY_PROPERTY } from './clients.js';
import { configuredClientMetadata } from './configured-clients.js';
import { grantPerAuthorization } from './grants.js';
import {
  addGrantClaim,
  introspectionRule,
  JWT_PLACEHOLDER,
  jwtIntrospectionAndRevocation,
  ownTokenVerifier,
  REVOCATION_REFUSED,
  revocationRule,
} from './introspection.js';
import { metadataDocumentConfiguration } from './metadata-documents.js';
import { OFFLINE_CONSENT_PARAM } from './offline-access.js';
import { createInteractionPolicy } from './policy.js';
import { refreshReuseInterval } from './refresh-reuse.js';
import { clientIdFor } from './registration.js';
import type { ResourceRegistry } from './resources.js';
import { providerRoutes, type Routes } from './routes.js';
import { tokenPolicy } from './tokens.js';
import { corsAllowedFor, jwtUserinfo, OIDC_CLAIMS } from './userinfo.js';

/** The grants and response types offered to clients (registration drops any other). */
export const GRANT_TYPES: readonly string[] = ['authorization_code', 'refresh_token'];
export const RESPONSE_TYPES: readonly string[] = ['code'];

export interface ProviderDependencies {
  readonly config: Config;
  readonly store: Store;
  readonly accounts: Accounts;
  readonly resources: ResourceRegistry;
  readonly cookieKeys: string[];
  /** Endpoint paths, shared with the koa middlewares in front of the provider. */
  readonly routes: Routes;
  /** Private signing keys, active first (keys/keystore.ts). */
  readonly jwks: { keys: JWK[] };
  /** What federated accounts may hold (their upstream's scope mapping). */
  readonly federation: Federation;
  /** Clients first seen through a metadata document go on the audit trail. */
  readonly audit: AuditTrail;
}

/**
 * oidc-provider configured as an MCP authorization server. Every default the library ships that an
 * MCP client trips over is changed here, with the reason next to it.
 */
export function createProvider({
  config,
  store,
  accounts,
  resources,
  cookieKeys,
  routes,
  jwks,
  federation,
  audit,
}: ProviderDependencies): Provider {
  const tokens = tokenPolicy(config, resources);
  const metadataDocuments = metadataDocumentConfiguration(config.cimd, (client) =>
    audit.record({
      type: 'client_registered',
      outcome: 'success',
      client: client.clientId,
      detail: { via: 'cimd', redirect_hosts: redirectHosts(client.redirectUris) },
    }),
  );
  const configuredIds = new Set(config.clients.map((client) => client.client_id));
  const claimsOf = (sub: string) => accounts.claimsOf(sub);
  const mayIntrospect = introspectionRule(configuredIds);
  // Browsers reach the sign-in pages at the issuer's URLs: its scheme decides.
  const secureCookies = new URL(config.issuer).protocol === 'https:';

  const configuration: Configuration = {
    // Rotated-out refresh tokens still refresh for a few seconds (racing clients), then are reuse.
    adapter: adapterClass(store.models, {
      found: refreshReuseInterval(config.refreshReuseIntervalSeconds),
      // The provider looks the JWT placeholder up as every kind of token (provider/introspection.ts).
      neverStored: new Set([JWT_PLACEHOLDER]),
    }) as unknown as Configuration['adapter'],
    // Gatehouse's paths, or a Keycloak realm's with AUTH_COMPAT=keycloak (provider/routes.ts).
    routes: providerRoutes(routes),
    // Configured clients as written (provider/configured-clients.ts): one with a secret
    // authenticates with it, one without redirect URIs has no browser flow.
    clients: [
      ...config.clients.map(configuredClientMetadata),
      accountClientMetadata(config.issuer),
    ] as unknown as Configuration['clients'],
    jwks: jwks as Configuration['jwks'],
    cookies: {
      keys: cookieKeys,
      long: { httpOnly: true, sameSite: 'lax', secure: secureCookies },
      short: { httpOnly: true, sameSite: 'lax', secure: secureCookies },
    },
    async findAccount(_ctx, sub) {
      const claims = await claimsOf(sub);
      return claims && { accountId: sub, claims: async () => claims };
    },
    claims: OIDC_CLAIMS as Configuration['claims'],
    scopes: ['openid', 'offline_access', 'profile', ...resources.allScopes()],
    // MCP clients often omit token_endpoint_auth_method; the library default would hand them a
    // secret they never send, and their token request would fail with invalid_client.
    clientDefaults: {
      grant_types: [...GRANT_TYPES],
      response_types: [...RESPONSE_TYPES] as ResponseType[],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'RS256',
    },
    extraClientMetadata: {
      properties: [POLICY_PROPERTY],
      validator(_ctx, key, _value, metadata) {
        applyRegistrationPolicy(key, metadata as Record<string, unknown>, configuredIds);
      },
    },
    // Browser clients (MCP Inspector) call the token, revocation and UserInfo endpoints from their
    // page: a public client may do so from the origin of one of its redirect URIs.
    clientBasedCORS: (_ctx, origin, client) => corsAllowedFor(origin, client),
    // OAuth 2.1: PKCE for every client; oidc-provider 9 accepts only S256.
    pkce: { required: () => true },
    fetch: metadataDocuments.fetch,
    features: {
      clientIdMetadataDocument: metadataDocuments.feature,
      // Machine-to-machine clients (the MCP client-credentials extension): configured clients
      // only (clients.ts takes the grant from every registered one).
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      registration: {
        enabled: true,
        initialAccessToken: false,
        issueRegistrationAccessToken: true,
        idFactory: clientIdFor,
      },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
      introspection: {
        enabled: true,
        // RFC 7662 §4: who may introspect which token (provider/introspection.ts); JWTs are
        // answered by the middleware added below.
        async allowedPolicy(_ctx, client, token) {
          return mayIntrospect(client, token.clientId ?? '');
        },
      },
      revocation: {
        enabled: true,
        // RFC 7009 §2.1, for JWTs too (provider/introspection.ts: revocationRule).
        async allowedPolicy(_ctx, client, token) {
          const decision = revocationRule(client, token.clientId);
          if (decision === 'refuse') throw new errors.InvalidRequest(REVOCATION_REFUSED);
          return decision === 'revoke';
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.set('content-security-policy', pageCsp());
          ctx.type = 'html';
          ctx.body = renderLogout(form, ctx.host);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.set('content-security-policy', pageCsp());
          ctx.type = 'html';
          ctx.body = renderLoggedOut(ctx.oidc.client?.clientName);
        },
      },
      resourceIndicators: {
        enabled: true,
        async defaultResource(_ctx, client, oneOf) {
          // The account page signs in for itself, not for a resource.
          if (client.clientId === ACCOUNT_CLIENT_ID) return oneOf;
          return oneOf ?? resources.defaultResource;
        },
        // The token request may omit `resource`: the grant's own resource is then used.
        async useGrantedResource() {
          return true;
        },
        // Asked at authorization, consent, code exchange and refresh: a federated account never
        // gets a scope its upstream's mapping does not give it, and loses one at the next
        // refresh once it is taken away (its groups are those of its last sign-in).
        async getResourceServerInfo(ctx, resourceIndicator) {
          const resource = resources.get(resourceIndicator);
          if (!resource) throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
          const accountId = ctx.oidc.account?.accountId ?? ctx.oidc.session?.accountId;
          const allowed = accountId
            ? await federation.allowedScopes(accountId, resource)
            : undefined;
          return {
            scope: (allowed ?? resource.scopes).join(' '),
            audience: resource.resource,
            accessTokenTTL: resource.accessTokenTtl ?? config.ttl.accessToken,
            accessTokenFormat: resource.accessTokenFormat,
            ...(resource.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
          };
        },
      },
    },
    // Each JWT access token names its grant, so introspection can tell a revoked one.
    formats: { customizers: { jwt: addGrantClaim as never } },
    ttl: tokens.ttl as Configuration['ttl'],
    issueRefreshToken: tokens.issueRefreshToken as Configuration['issueRefreshToken'],
    rotateRefreshToken: tokens.rotateRefreshToken,
    expiresWithSession: tokens.expiresWithSession,
    // One grant (refresh-token family) per authorization; consent remembered per user and client.
    loadExistingGrant: grantPerAuthorization(store) as Configuration['loadExistingGrant'],
    interactions: {
      policy: createInteractionPolicy(async (accountId, indicators, requested) => {
        const notAllowed: Record<string, string[]> = {};
        for (const indicator of indicators) {
          const resource = resources.get(indicator);
          const allowed = resource && (await federation.allowedScopes(accountId, resource));
          if (!resource || !allowed) continue;
          const refused = requested.filter(
            (scope) => resource.scopes.includes(scope) && !allowed.includes(scope),
          );
          if (refused.length > 0) notAllowed[indicator] = refused;
        }
        return notAllowed;
      }),
      url: (_ctx, interaction) =>
        `${new URL(config.issuer).pathname.replace(/\/$/, '')}${routes.interaction}/${interaction.uid}`,
    },
    async renderError(ctx: KoaContextWithOIDC, out, error) {
      ctx.set('content-security-policy', pageCsp());
      ctx.type = 'html';
      ctx.body = renderErrorPage(out, error);
    },
    discovery: {
      // Resource indicators drive the audience; clients read these to decide how to behave.
      authorization_response_iss_parameter_supported: true,
    },
    responseTypes: [...RESPONSE_TYPES] as Configuration['responseTypes'],
    // Set only by the server (provider/offline-access.ts), kept with the interaction.
    extraParams: [OFFLINE_CONSENT_PARAM],
  };

  const provider = new Provider(config.issuer, configuration);
  // The app in front sets X-Forwarded-Proto/Host/For to the issuer's origin and the checked client
  // address on every request (http/issuer-origin.ts), so the URLs the provider builds are the
  // issuer's, whatever Host the request named.
  provider.proxy = true;
  const ownTokens = ownTokenVerifier({
    issuer: config.issuer,
    audiences: resources.all().map((resource) => resource.resource),
    jwks,
  });
  const findGrant = (grantId: string) => provider.Grant.find(grantId);
  provider.use(
    jwtIntrospectionAndRevocation({
      introspectionPath: routes.introspection,
      revocationPath: routes.revocation,
      verifier: ownTokens,
      mayIntrospect,
      findGrant,
      configuredIds,
      findClient: (clientId) => provider.Client.find(clientId),
    }) as Parameters<Provider['use']>[0],
  );
  provider.use(
    jwtUserinfo({
      path: routes.userinfo,
      verifier: ownTokens,
      claimsOf,
      findGrant,
      corsAllowed: async (origin, clientId) => {
        const client = await provider.Client.find(clientId);
        return client !== undefined && corsAllowedFor(origin, client);
      },
    }) as Parameters<Provider['use']>[0],
  );
  return provider;
}
