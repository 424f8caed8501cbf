import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (never a browser downloaded by Playwright: those
 * downloads fail on our machines). `CHROMIUM_PATH` overrides where it is looked for.
 */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return configured;
  const found = CANDIDATES.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      'Chromium not found: install it (Debian: apt-get install -y chromium; `npm test` does this itself when run as root on Debian) or set CHROMIUM_PATH',
    );
  }
  return found;
}

/** Flags for a headless Chromium on a closed network, as root. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** `extraArgs` adds Chromium flags (e.g. `--host-resolver-rules` for hosts a page loads from). */
export function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...FLAGS, ...extraArgs],
  });
}
