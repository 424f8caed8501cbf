// What the dev scripts share about the servers they start on this machine: is a URL's port free,
// does a URL answer, and waiting until it does.
import { createServer } from 'node:net';

/** True when nothing listens on the port of `url` (localhost checked as 127.0.0.1). */
export function portFreeFor(url) {
  const { port, hostname, protocol } = new URL(url);
  const host = hostname === 'localhost' ? '127.0.0.1' : hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(Number(port || (protocol === 'https:' ? 443 : 80)), host, () =>
      server.close(() => resolve(true)),
    );
  });
}

/** True when `url` answers 2xx within a second. */
export async function answers(url) {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/**
 * Polls `url` every `intervalMs` until it answers (true), `timeoutMs` passes or `child` exits
 * (false).
 */
export async function waitFor(
  url,
  { timeoutMs = Number.POSITIVE_INFINITY, intervalMs = 250, child } = {},
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) return false;
    if (await answers(url)) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return false;
}
