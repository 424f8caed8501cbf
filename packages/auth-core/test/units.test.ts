import { describe, expect, it } from 'vitest';
import {
  buildChallenge,
  ConfigurationError,
  canonicalizeResourceUri,
  createAudienceMatcher,
  createJwtVerifier,
  createResourceServer,
  createScopePolicy,
  parseAuthorizationHeader,
  parseScopes,
  protectedResourceMetadataUrls,
  quoteHeaderValue,
  scopesForToolCalls,
  tryCanonicalizeResourceUri,
} from '../src/index.js';

describe('canonical resource URIs', () => {
  it.each([
    ['https://mcp.example.com/mcp', 'https://mcp.example.com/mcp'],
    ['HTTPS://MCP.Example.COM/mcp', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com:443/mcp', 'https://mcp.example.com/mcp'],
    ['http://localhost:80/mcp', 'http://localhost/mcp'],
    ['https://mcp.example.com/mcp/', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com/', 'https://mcp.example.com'],
    ['https://mcp.example.com', 'https://mcp.example.com'],
    ['https://mcp.example.com:8443', 'https://mcp.example.com:8443'],
    ['https://mcp.example.com/Case/Path', 'https://mcp.example.com/Case/Path'],
  ])('%s -> %s', (input, canonical) => {
    expect(canonicalizeResourceUri(input)).toBe(canonical);
  });

  it.each([
    'mcp.example.com/mcp',
    'ftp://mcp.example.com',
    'https://mcp.example.com/mcp#frag',
    'https://user:pw@mcp.example.com',
    '/mcp',
    '',
  ])('refuses %j as a resource', (input) => {
    expect(tryCanonicalizeResourceUri(input)).toBeUndefined();
    expect(() => canonicalizeResourceUri(input)).toThrow(ConfigurationError);
  });

  it('never matches an audience by prefix', () => {
    const matches = createAudienceMatcher(['https://mcp.example.com/mcp']);
    expect(matches('https://mcp.example.com/mcp')).toBe(true);
    expect(matches('https://mcp.example.com/mcp/')).toBe(true);
    expect(matches('https://mcp.example.com/mcp2')).toBe(false);
    expect(matches('https://mcp.example.com/mcp/x')).toBe(false);
    expect(matches('https://mcp.example.com')).toBe(false);
    expect(matches(['a', 'https://MCP.example.com:443/mcp'])).toBe(true);
    expect(matches(42)).toBe(false);
  });

  it('matches non-URI audiences verbatim only', () => {
    const matches = createAudienceMatcher(['mcp-server']);
    expect(matches('mcp-server')).toBe(true);
    expect(matches('MCP-SERVER')).toBe(false);
  });

  it('builds path-inserted and root metadata URLs', () => {
    expect(protectedResourceMetadataUrls('https://h.example/public/mcp/')).toEqual({
      pathInserted: 'https://h.example/.well-known/oauth-protected-resource/public/mcp',
      root: 'https://h.example/.well-known/oauth-protected-resource',
    });
    const bare = protectedResourceMetadataUrls('https://h.example');
    expect(bare.pathInserted).toBe(bare.root);
  });
});

describe('WWW-Authenticate', () => {
  it('quotes and escapes parameter values', () => {
    expect(quoteHeaderValue('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteHeaderValue('line\r\nbreak é')).toBe('"line??break ?"');
  });

  it('orders parameters and omits empty ones', () => {
    expect(buildChallenge('Bearer', {})).toBe('Bearer');
    expect(
      buildChallenge('Bearer', {
        error: 'insufficient_scope',
        scope: ['a', 'b'],
        resourceMetadata: 'https://h/.well-known/x',
      }),
    ).toBe(
      'Bearer error="insufficient_scope", scope="a b", resource_metadata="https://h/.well-known/x"',
    );
  });

  it('parses one Authorization header', () => {
    expect(parseAuthorizationHeader([])).toEqual({ kind: 'none' });
    expect(parseAuthorizationHeader(['Bearer abc.def-_~+/='])).toEqual({
      kind: 'token',
      scheme: 'Bearer',
      token: 'abc.def-_~+/=',
    });
    expect(parseAuthorizationHeader(['dpop abc'])).toEqual({
      kind: 'token',
      scheme: 'DPoP',
      token: 'abc',
    });
    expect(parseAuthorizationHeader(['Basic abc'])).toEqual({ kind: 'other', scheme: 'basic' });
    expect(() => parseAuthorizationHeader(['Bearer a', 'Bearer b'])).toThrow(
      /Authorization headers/,
    );
    expect(() => parseAuthorizationHeader(['Bearer a, Bearer b'])).toThrow(/token68/);
    expect(() => parseAuthorizationHeader(['(bad) x'])).toThrow(/scheme/);
  });
});

describe('scopes', () => {
  it('reads scope strings and scp arrays, dropping invalid and duplicate entries', () => {
    expect(parseScopes({ scope: 'a  b a' })).toEqual(['a', 'b']);
    expect(parseScopes({ scp: ['a', 'b', 7, 'c d', 'e"'] })).toEqual(['a', 'b']);
    expect(parseScopes({ scp: 'x y' })).toEqual(['x', 'y']);
    expect(parseScopes({})).toEqual([]);
  });

  it('expands a hierarchy transitively and survives cycles', () => {
    const policy = createScopePolicy({ admin: ['write'], write: ['read'], read: ['admin'] });
    expect([...policy.expand(['write'])].sort()).toEqual(['admin', 'read', 'write']);
    const linear = createScopePolicy({ admin: ['write'], write: ['read'] });
    expect(linear.missing(['admin'], ['read', 'write'])).toEqual([]);
    expect(linear.missing(['read'], ['read', 'write', 'admin'])).toEqual(['write', 'admin']);
  });

  it('never lets a narrower scope imply a broader one', () => {
    const policy = createScopePolicy({ 'mcp:admin': ['mcp:tools'] });
    expect(policy.missing(['mcp:tools'], ['mcp:admin'])).toEqual(['mcp:admin']);
  });
});

describe('per-tool scopes (scopesForToolCalls)', () => {
  const call = (name: unknown, id = 1) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name },
  });
  const toolScopes = new Map([
    ['add', ['mcp:tools']],
    ['status', ['mcp:tools', 'mcp:admin']],
  ]);

  it('names the scopes of the tool a tools/call message calls, and of every call in a batch', () => {
    expect(scopesForToolCalls(call('status'), toolScopes)).toEqual(['mcp:tools', 'mcp:admin']);
    expect(scopesForToolCalls([call('add'), call('status', 2)], toolScopes)).toEqual([
      'mcp:tools',
      'mcp:admin',
    ]);
    // A lookup function works as the map does.
    expect(scopesForToolCalls(call('status'), (tool) => toolScopes.get(tool))).toEqual([
      'mcp:tools',
      'mcp:admin',
    ]);
  });

  it('needs nothing for other methods, unknown tools and malformed messages', () => {
    for (const message of [
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      call('no_such_tool'),
      call(42),
      { method: 'tools/call' },
      null,
      'tools/call',
      [],
    ])
      expect(scopesForToolCalls(message, toolScopes)).toEqual([]);
  });
});

describe('configuration is validated when a factory is built', () => {
  const base = {
    issuer: 'https://as.example.com',
    audience: 'https://mcp.example.com/mcp',
    jwksUri: 'https://as.example.com/jwks',
  };

  it.each([
    [{ algorithms: ['none'] }, /algorithms/],
    [{ algorithms: ['HS256'] }, /algorithms/],
    [{ algorithms: ['RS256', 'HS512'] }, /algorithms/],
    [{ issuer: 'not a url' }, /issuer/],
    [{ clockToleranceSec: -1 }, /clockToleranceSec/],
    [{ jwksUri: undefined }, /jwksUri/],
  ])('refuses JWT verifier options %j', (override, message) => {
    expect(() =>
      createJwtVerifier({ ...base, ...override } as Parameters<typeof createJwtVerifier>[0]),
    ).toThrow(message);
  });

  it('refuses a resource that is not a canonicalisable URI, naming the option', () => {
    expect(() =>
      createResourceServer({
        resource: 'mcp',
        issuer: 'https://as.example.com',
        verification: { mode: 'jwt' },
      }),
    ).toThrow(/resource must be an absolute/);
  });

  it('refuses an invalid scope in the required scopes', () => {
    expect(() =>
      createResourceServer({
        resource: 'https://mcp.example.com/mcp',
        issuer: 'https://as.example.com',
        verification: { mode: 'jwt' },
        requiredScopes: ['a b'],
      }),
    ).toThrow(/requiredScopes/);
  });

  it('refuses introspection without client credentials', () => {
    expect(() =>
      createResourceServer({
        resource: 'https://mcp.example.com/mcp',
        issuer: 'https://as.example.com',
        verification: { mode: 'introspection', clientId: '', clientSecret: '' },
      }),
    ).toThrow(/clientId/);
  });
});
