import { InvalidRequestError } from './errors.js';

/** What an `Authorization` header carried. */
export type ParsedAuthorization =
  | { readonly kind: 'none' }
  | { readonly kind: 'other'; readonly scheme: string }
  | { readonly kind: 'token'; readonly scheme: 'Bearer' | 'DPoP'; readonly token: string };

/** `credentials = auth-scheme 1*SP token68` (RFC 9110 §11.4, RFC 6750 §2.1). */
const CREDENTIALS = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?: +(.*))?$/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Parses the `Authorization` header values of one request. Exactly one header may be sent; the
 * scheme is case-insensitive; Bearer and DPoP credentials must be a single token68.
 * Throws {@link InvalidRequestError} for anything RFC 6750 calls a malformed request.
 */
export function parseAuthorizationHeader(values: readonly string[]): ParsedAuthorization {
  if (values.length === 0) return { kind: 'none' };
  if (values.length > 1) {
    throw new InvalidRequestError(
      'multiple_authorization_headers',
      `request carried ${values.length} Authorization headers`,
    );
  }
  const value = (values[0] ?? '').trim();
  if (value === '') return { kind: 'none' };
  const match = CREDENTIALS.exec(value);
  if (!match) {
    throw new InvalidRequestError(
      'malformed_authorization_header',
      'Authorization header has no valid scheme',
    );
  }
  const scheme = (match[1] ?? '').toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'dpop') return { kind: 'other', scheme };
  const credentials = match[2] ?? '';
  if (!TOKEN68.test(credentials)) {
    // Also catches "Bearer a, Bearer b": a folded duplicate header is not one token68.
    throw new InvalidRequestError(
      'malformed_authorization_header',
      `${scheme} credentials are not a single token68 value`,
    );
  }
  return { kind: 'token', scheme: scheme === 'bearer' ? 'Bearer' : 'DPoP', token: credentials };
}
