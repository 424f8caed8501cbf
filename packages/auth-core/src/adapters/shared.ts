import type { AuthRequest } from '../resource-server.js';

/** Header values as Node (`headersDistinct`) or a plain record gives them. */
export type HeaderValues = string | readonly string[] | undefined;

export function headerList(value: HeaderValues): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : [...value];
}

/** Reads `access_token` from an already-parsed body, whatever shape the framework gave it. */
export function bodyParamsOf(body: unknown): AuthRequest['bodyParams'] {
  if (body instanceof URLSearchParams) return body;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    return body as Readonly<Record<string, unknown>>;
  }
  return undefined;
}
