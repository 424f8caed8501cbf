import { describe, expect, it } from 'vitest';
import {
  consentAlreadyGiven,
  OFFLINE_CONSENT_PARAM,
  requestOfflineAccessConsent,
} from '../src/provider/offline-access.js';
import { refreshReuseInterval } from '../src/provider/refresh-reuse.js';

/** The boundaries of the two refresh policies; test/refresh.test.ts runs them in the real server. */

describe('refreshReuseInterval', () => {
  const firstUse = 1_000;
  const at = (seconds: number) => refreshReuseInterval(30, () => seconds * 1000);
  const consumed = { consumed: firstUse, grantId: 'g' };

  it('shows a refresh token first used less than the interval ago as unused, keeping everything else', () => {
    expect(at(firstUse + 29.9)('RefreshToken', consumed)).toEqual({ grantId: 'g' });
  });

  it('leaves it consumed from the interval on (reuse detection applies)', () => {
    expect(at(firstUse + 30)('RefreshToken', consumed)).toBe(consumed);
  });

  it('never applies to other models (authorization codes stay single-use)', () => {
    expect(at(firstUse)('AuthorizationCode', consumed)).toBe(consumed);
  });

  it('applies to nothing with an interval of 0', () => {
    expect(refreshReuseInterval(0, () => firstUse * 1000)('RefreshToken', consumed)).toBe(consumed);
  });
});

describe('requestOfflineAccessConsent', () => {
  const rewrite = (query: string) => {
    const params = new URLSearchParams(query);
    return { changed: requestOfflineAccessConsent(params), params };
  };

  it('asks for consent when offline_access comes without prompt=consent, and marks that it did', () => {
    const { changed, params } = rewrite('scope=mcp:tools+offline_access&prompt=login');
    expect(changed).toBe(true);
    expect(params.get('prompt')).toBe('login consent');
    expect(params.get(OFFLINE_CONSENT_PARAM)).toBe('1');
  });

  it('leaves a request alone that has prompt=consent, prompt=none, or no offline_access', () => {
    for (const query of [
      'scope=offline_access&prompt=consent',
      'scope=offline_access&prompt=none',
      'scope=mcp:tools',
    ])
      expect(rewrite(query).changed, query).toBe(false);
  });

  it("drops a client's own marker", () => {
    const { changed, params } = rewrite(`scope=mcp:tools&${OFFLINE_CONSENT_PARAM}=1`);
    expect(changed).toBe(true);
    expect(params.has(OFFLINE_CONSENT_PARAM)).toBe(false);
  });
});

describe('consentAlreadyGiven', () => {
  const details = {
    params: { [OFFLINE_CONSENT_PARAM]: '1' },
    prompt: { name: 'consent', reasons: ['consent_prompt'] },
    grantId: 'g',
  };

  it('completes only the consent step the server added, when nothing in it is new', () => {
    expect(consentAlreadyGiven(details)).toBe(true);
    expect(consentAlreadyGiven({ ...details, params: {} })).toBe(false);
    expect(consentAlreadyGiven({ ...details, grantId: undefined })).toBe(false);
    expect(
      consentAlreadyGiven({
        ...details,
        prompt: { name: 'consent', reasons: ['consent_prompt', 'op_scopes_missing'] },
      }),
    ).toBe(false);
    expect(
      consentAlreadyGiven({ ...details, prompt: { name: 'login', reasons: ['no_session'] } }),
    ).toBe(false);
  });
});
