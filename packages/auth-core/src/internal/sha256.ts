import { base64url } from 'jose';

const encoder = new TextEncoder();

/** base64url (no padding) of the SHA-256 of `value`'s UTF-8: 43 characters, whatever the input. */
export async function sha256Base64url(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(value));
  return base64url.encode(new Uint8Array(digest));
}
