import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, createJwtVerifier, type SupportedAlgorithm } from '../src/index.js';

interface Vector {
  id: string;
  description: string;
  token: string;
  jwks: { keys: unknown[] };
  config: {
    issuer: string;
    audience: string[];
    algorithms?: SupportedAlgorithm[];
    allowPlainJwt: boolean;
    clockToleranceSec: number;
    maxTokenBytes: number;
    now: number;
  };
  expected:
    | { valid: true; subject?: string; clientId: string; scopes: string[]; expiresAt?: number }
    | { valid: false; error: string; reason: string };
}

const { vectors } = JSON.parse(
  readFileSync(new URL('../test-vectors/jwt-access-tokens.json', import.meta.url), 'utf8'),
) as { vectors: Vector[] };

// Each vector's JWKS is served over real HTTP, as a verifier in production would fetch it.
let server: Server;
let origin: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const vector = vectors.find((v) => req.url === `/${v.id}/jwks`);
    res.writeHead(vector ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(vector?.jwks ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('portable JWT test vectors', () => {
  it('has at least 40 negative cases', () => {
    expect(vectors.filter((v) => !v.expected.valid).length).toBeGreaterThanOrEqual(40);
  });

  it.each(vectors.map((v) => [v.id, v] as const))('%s', async (_id, vector) => {
    const verifier = createJwtVerifier({
      issuer: vector.config.issuer,
      audience: vector.config.audience,
      jwksUri: `${origin}/${vector.id}/jwks`,
      algorithms: vector.config.algorithms,
      allowPlainJwt: vector.config.allowPlainJwt,
      clockToleranceSec: vector.config.clockToleranceSec,
      maxTokenBytes: vector.config.maxTokenBytes,
      now: () => vector.config.now * 1000,
    });
    const outcome = await verifier.verify(vector.token).then(
      (token) => ({ valid: true as const, token }),
      (error: unknown) => ({ valid: false as const, error }),
    );
    if (vector.expected.valid) {
      if (!outcome.valid) throw outcome.error;
      expect(outcome.token.subject).toBe(vector.expected.subject);
      expect(outcome.token.clientId).toBe(vector.expected.clientId);
      expect(outcome.token.scopes).toEqual(vector.expected.scopes);
      expect(outcome.token.expiresAt).toBe(vector.expected.expiresAt);
    } else {
      expect(outcome.valid, vector.description).toBe(false);
      const error = (outcome as { error: unknown }).error;
      expect(error).toBeInstanceOf(AuthError);
      expect({ error: (error as AuthError).error, reason: (error as AuthError).reason }).toEqual({
        error: vector.expected.error,
        reason: vector.expected.reason,
      });
    }
  });
});
