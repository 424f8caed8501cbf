import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { federatedAccountId } from '../src/accounts/federated-accounts.js';
import { loadConfig } from '../src/config.js';
import { admit } from '../src/federation/admission.js';
import { identityFrom, type UpstreamIdentity } from '../src/federation/identity.js';
import { allowedScopes } from '../src/federation/scope-policy.js';
import { classifyUpstreamError } from '../src/federation/upstream-errors.js';

/**
 * The rules of federated sign-in, each with the case that would pass were the rule gone: who the
 * upstream says signed in, who may enter, what they may hold, and how failures are told apart.
 * (The flow itself runs against a real Keycloak in tests/e2e/test/federation.test.ts.)
 */

const claimNames = {
  subject_claim: 'sub',
  username_claim: 'preferred_username',
  email_claim: 'email',
  groups_claim: 'groups',
};

const person = (overrides: Partial<UpstreamIdentity> = {}): UpstreamIdentity => ({
  subject: 'f3c1',
  username: 'alice',
  email: 'alice@example.test',
  emailVerified: true,
  name: undefined,
  groups: ['mcp-users'],
  ...overrides,
});

describe('who signed in (identity.ts)', () => {
  it('takes the subject claim, never the email, and reads groups and nested claims', () => {
    const identity = identityFrom(
      {
        sub: 'f3c1',
        email: 'Alice@Example.TEST',
        email_verified: true,
        preferred_username: 'alice',
        groups: ['mcp-admins', 7],
      },
      claimNames,
    );
    expect(identity).toEqual({
      subject: 'f3c1',
      username: 'alice',
      email: 'alice@example.test',
      emailVerified: true,
      name: undefined,
      groups: ['mcp-admins'],
    });
    const roles = identityFrom(
      { sub: 'x', realm_access: { roles: ['mcp-admins'] } },
      { ...claimNames, groups_claim: 'realm_access.roles' },
    );
    expect(roles?.groups).toEqual(['mcp-admins']);
  });

  it('names nobody without a subject; takes GitHub numeric ids; trusts only email_verified: true', () => {
    expect(identityFrom({ email: 'a@example.test' }, claimNames)).toBeUndefined();
    expect(identityFrom({ sub: { nested: 1 } }, claimNames)).toBeUndefined();
    expect(
      identityFrom({ id: 583231, login: 'octocat' }, { ...claimNames, subject_claim: 'id' })
        ?.subject,
    ).toBe('583231');
    expect(
      identityFrom({ sub: 'x', email: 'a@example.test', email_verified: 'true' }, claimNames)
        ?.emailVerified,
    ).toBe(false);
    expect(identityFrom({ sub: 'x', groups: 'mcp-admins' }, claimNames)?.groups).toEqual([
      'mcp-admins',
    ]);
  });
});

describe('who may enter (admission.ts)', () => {
  const domains = { allowed_email_domains: ['example.test'], allowed_groups: [] };
  it('admits a verified email in an allowed domain, and only exactly that domain', () => {
    expect(admit(person(), domains)).toEqual({ admitted: true });
    for (const email of [
      'a@other.test',
      'a@evil-example.test',
      'a@sub.example.test',
      'a@example.test.evil',
    ]) {
      expect(admit(person({ email }), domains).admitted, email).toBe(false);
    }
  });

  it('refuses an unverified or missing email when domains are required', () => {
    expect(admit(person({ emailVerified: false }), domains)).toMatchObject({
      admitted: false,
      reason: expect.stringContaining('no verified email'),
    });
    expect(admit(person({ email: undefined, emailVerified: false }), domains).admitted).toBe(false);
  });

  it('requires one of the allowed groups when they are set, and nothing when neither is', () => {
    const groups = { allowed_email_domains: [], allowed_groups: ['mcp-users'] };
    expect(admit(person(), groups).admitted).toBe(true);
    expect(admit(person({ groups: ['others'] }), groups).admitted).toBe(false);
    expect(admit(person({ groups: [] }), groups).admitted).toBe(false);
    expect(
      admit(person({ email: undefined, groups: [] }), {
        allowed_email_domains: [],
        allowed_groups: [],
      }).admitted,
    ).toBe(true);
  });
});

describe('what they may hold (scope-policy.ts)', () => {
  const mcp = {
    resource: 'http://localhost:3000/mcp',
    scopes: ['mcp:tools', 'mcp:admin'],
    defaultScopes: ['mcp:tools'],
  };
  const api = { resource: 'https://api.example.com', scopes: ['api:read', 'mcp:admin'] };
  const grants = {
    scope_grants: [
      { scopes: ['mcp:tools'] },
      { group: 'mcp-admins', scopes: ['mcp:admin'], resource: mcp.resource },
    ],
  };

  it('grants by group and resource, within the resource scopes', () => {
    expect(allowedScopes(['mcp-users'], grants, mcp)).toEqual(['mcp:tools']);
    expect(allowedScopes(['mcp-admins'], grants, mcp)).toEqual(['mcp:tools', 'mcp:admin']);
    // The admin grant names another resource: nothing of it here.
    expect(allowedScopes(['mcp-admins'], grants, api)).toEqual([]);
  });

  it('without scope_grants: the resource default scopes, never all of them', () => {
    expect(allowedScopes(['mcp-admins'], {}, mcp)).toEqual(['mcp:tools']);
  });

  it('account ids: the upstream subject, hashed when it is not a plain token, never a local name', () => {
    expect(federatedAccountId('corp', 'f3c1-9a')).toBe('corp:f3c1-9a');
    const odd = federatedAccountId('corp', 'a b/c');
    expect(odd).toMatch(/^corp:[\w-]{43}$/);
    expect(odd).not.toContain(' ');
    expect(federatedAccountId('corp', 'alice')).toContain(':');
  });
});

/** openid-client's error as it throws them: a message, a `code`, sometimes a `cause`. */
const clientError = (code: string, cause?: unknown) =>
  Object.assign(new oidc.ClientError('t', cause === undefined ? undefined : { cause }), { code });

describe('what went wrong (upstream-errors.ts)', () => {
  it('tells an unreachable or failing upstream from a refusal and from a bad answer', () => {
    const network = Object.assign(new TypeError('fetch failed'), {
      cause: { code: 'ECONNREFUSED' },
    });
    expect(classifyUpstreamError(network)).toEqual({
      failure: 'unavailable',
      detail: 'network: ECONNREFUSED',
    });
    expect(classifyUpstreamError(clientError('OAUTH_TIMEOUT')).failure).toBe('unavailable');
    expect(
      classifyUpstreamError(clientError('OAUTH_RESPONSE_IS_NOT_CONFORM', { status: 502 })).failure,
    ).toBe('unavailable');
    expect(classifyUpstreamError(clientError('OAUTH_INVALID_RESPONSE')).failure).toBe('invalid');
    expect(classifyUpstreamError(new Error('boom')).failure).toBe('invalid');
  });
});

describe('AUTH_FEDERATION at startup', () => {
  const upstream = {
    id: 'corp',
    name: 'Corp SSO',
    issuer: 'https://sso.example.com/realms/corp',
    client_id: 'gatehouse',
    client_secret: 'secret',
  };
  const load = (entries: unknown) => () =>
    loadConfig({
      AUTH_FEDERATION: typeof entries === 'string' ? entries : JSON.stringify(entries),
    });

  it('accepts an OpenID Connect upstream and a plain OAuth 2.0 one', () => {
    const config = loadConfig({
      AUTH_FEDERATION: JSON.stringify([
        upstream,
        {
          id: 'github',
          name: 'GitHub',
          authorization_endpoint: 'https://github.com/login/oauth/authorize',
          token_endpoint: 'https://github.com/login/oauth/access_token',
          userinfo_endpoint: 'https://api.github.com/user',
          client_id: 'x',
          client_secret: 'y',
          subject_claim: 'id',
          username_claim: 'login',
          scope_grants: [{ resource: 'HTTP://LOCALHOST:3000/mcp/', scopes: ['mcp:tools'] }],
        },
      ]),
    });
    expect(config.federation.map((entry) => entry.id)).toEqual(['corp', 'github']);
    expect(config.federation[1]?.scope_grants?.[0]?.resource).toBe('http://localhost:3000/mcp');
  });

  it.each([
    ['not JSON', '[{', 'AUTH_FEDERATION must be JSON'],
    ['a bad id', [{ ...upstream, id: 'Corp SSO' }], 'AUTH_FEDERATION[0][id]: id must be'],
    [
      'two ways to find it',
      [{ ...upstream, token_endpoint: 'https://x/token' }],
      'set either issuer',
    ],
    [
      'no way to find it',
      [{ ...upstream, issuer: undefined }],
      'needs issuer (OpenID Connect), or',
    ],
    [
      'no credential',
      [{ ...upstream, client_secret: undefined }],
      'needs exactly one of client_secret and private_key_jwk',
    ],
    ['plain http elsewhere', [{ ...upstream, issuer: 'http://sso.example.com' }], 'must use https'],
    ['the same id twice', [upstream, upstream], 'upstream corp is listed twice'],
    [
      'an unknown resource',
      [
        {
          ...upstream,
          scope_grants: [{ resource: 'https://other.example/api', scopes: ['mcp:tools'] }],
        },
      ],
      'is not one of AUTH_RESOURCES',
    ],
    [
      'an unknown scope',
      [{ ...upstream, scope_grants: [{ scopes: ['mcp:root'] }] }],
      'scope mcp:root is not a scope of any resource',
    ],
  ])('stops on %s, naming AUTH_FEDERATION and the fix', (_case, entries, message) => {
    expect(load(entries)).toThrow(message);
    expect(load(entries)).toThrow(/AUTH_FEDERATION/);
  });

  it('never echoes a client secret in its message', () => {
    expect(
      load([{ ...upstream, client_secret: 'hunter2-secret', issuer: 'http://sso.example.com' }]),
    ).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter2-secret') }));
  });
});
