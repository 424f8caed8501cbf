/**
 * The one place that talks HTTP to an authorization server: a time limit, a size limit, no
 * redirects (a metadata, JWKS or introspection URL that redirects is a misconfiguration or an
 * attack), and JSON objects only.
 */

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface FetchJsonOptions {
  readonly fetch: FetchLike;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** Why a fetch failed, for the log line (never contains a token). */
export class FetchJsonError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FetchJsonError';
    this.status = status;
  }
}

export interface JsonResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

/** Fetches `url` and parses a JSON object body; throws {@link FetchJsonError} otherwise. */
export async function fetchJson(url: string, options: FetchJsonOptions): Promise<JsonResponse> {
  let response: Response;
  try {
    response = await options.fetch(url, {
      method: options.method ?? 'GET',
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: { accept: 'application/json', ...options.headers },
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
  } catch (cause) {
    const reason = cause instanceof Error && cause.name === 'TimeoutError' ? 'timed out' : 'failed';
    throw new FetchJsonError(`request to ${url} ${reason}`, undefined, { cause });
  }
  if (response.status < 200 || response.status >= 300) {
    await response.body?.cancel().catch(() => undefined);
    throw new FetchJsonError(`${url} answered HTTP ${response.status}`, response.status);
  }
  const text = await readLimited(response, options.maxBytes, url);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new FetchJsonError(`${url} did not answer JSON`, response.status, { cause });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new FetchJsonError(`${url} did not answer a JSON object`, response.status);
  }
  return {
    status: response.status,
    body: body as Record<string, unknown>,
    headers: response.headers,
  };
}

async function readLimited(response: Response, maxBytes: number, url: string): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new FetchJsonError(
      `${url} answered ${declared} bytes, limit ${maxBytes}`,
      response.status,
    );
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new FetchJsonError(`${url} answered more than ${maxBytes} bytes`, response.status);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
