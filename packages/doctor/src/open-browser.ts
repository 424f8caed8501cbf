import { spawn } from 'node:child_process';

/**
 * Opens a URL the way CLIs conventionally do: `$BROWSER` when set (a command; `%s` is replaced by
 * the URL, else the URL is appended), else the platform's opener. The URL is always printed too,
 * for machines without a browser.
 */
export function openBrowser(url: string, purpose: string, print: (line: string) => void): void {
  print(`Sign in (${purpose}) at:\n  ${url}\n`);
  const custom = process.env.BROWSER;
  const [command, ...args] = custom
    ? custom.includes('%s')
      ? custom.split(' ').map((part) => part.replace('%s', url))
      : [...custom.split(' '), url]
    : process.platform === 'darwin'
      ? ['open', url]
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '""', url.replace(/&/g, '^&')]
        : ['xdg-open', url];
  if (!command) return;
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => print('(could not open a browser; open the URL above yourself)'));
  child.unref();
}
