import { describe, expect, it } from 'vitest';
import { exchange, forbiddenHost, redact } from '../src/http.js';

describe('evidence redaction', () => {
  const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl';

  it('redacts token-bearing JSON members, even in a body longer than what is shown', () => {
    const body = JSON.stringify({
      access_token: 'opaque-access',
      refresh_token: 'opaque-refresh',
      id_token: jwt,
      token_type: 'Bearer',
    });
    const out = redact(body);
    expect(out).not.toContain('opaque-access');
    expect(out).not.toContain('opaque-refresh');
    expect(out).not.toContain(jwt);
    expect(out).toContain('"token_type":"Bearer"');
  });

  it('redacts codes, verifiers, secrets and assertions in forms and query strings', () => {
    const out = redact(
      'grant_type=authorization_code&code=the-code&code_verifier=the-verifier&client_secret=s3cret&client_assertion=a.b.c',
    );
    for (const secret of ['the-code', 'the-verifier', 's3cret', 'a.b.c'])
      expect(out).not.toContain(secret);
    expect(out).toContain('grant_type=authorization_code');
    expect(redact('http://127.0.0.1:1/callback?code=abc&state=xyz')).toBe(
      'http://127.0.0.1:1/callback?code=[redacted]&state=xyz',
    );
  });

  it('redacts a JWT wherever it appears', () => {
    expect(redact(`error_description: token ${jwt} is expired`)).not.toContain(jwt);
  });
});

describe('addresses the doctor never fetches', () => {
  it('refuses link-local and cloud metadata hosts, whatever the server names', async () => {
    for (const host of [
      '169.254.169.254',
      '[fe80::1]',
      'metadata.google.internal',
      '100.100.100.200',
      '[fd00:ec2::254]',
    ])
      expect(forbiddenHost(new URL(`http://${host}/`).hostname), host).toBe(true);
    for (const host of ['127.0.0.1', 'localhost', '10.0.0.1', 'auth.example.com', '[::1]'])
      expect(forbiddenHost(new URL(`http://${host}/`).hostname), host).toBe(false);
    const answer = await exchange('http://169.254.169.254/latest/meta-data/');
    expect(answer.status).toBe(0);
    expect(answer.error).toMatch(/not fetched/);
  });
});
