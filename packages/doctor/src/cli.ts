#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadCorpus } from './corpus.js';
import { runDoctor } from './doctor.js';
import { openBrowser } from './open-browser.js';
import { renderText } from './render-text.js';

const USAGE = `Usage: gatehouse-doctor <mcp-url> [options]

Walks the authorization chain of an MCP server the way clients do and reports each step
(pass / warn / fail) with the evidence, the spec clause and a fix.

Options:
  --login               Sign in (opens a browser) and check tokens, MCP calls and refresh
  --client-id <id>      Use a client registered beforehand instead of a test registration
  --client-secret <s>   Its secret, if it is confidential (else read from GATEHOUSE_DOCTOR_CLIENT_SECRET)
  --port <n>            Port of the loopback redirect URI http://127.0.0.1:<n>/callback (default: free)
  --as <client>         Judge the chain as this client too, with its own registration and
                        authorization request (repeatable; ids: see --list-clients). Every
                        known client is judged in the summary table either way
  --list-clients        List the clients of the corpus and exit
  --origin <origin>     Browser origin for the CORS checks (default http://localhost:6274)
  --timeout <seconds>   How long to wait for each sign-in (default 300)
  --reuse-wait <s>      With --login: present a rotated-out refresh token again after s seconds
                        (longer than the server's reuse interval) to check reuse detection
  --json                Print the report as JSON (for CI)
  --verbose             Show the evidence of passing checks too
  -h, --help            This text

Exit status: 0 when nothing failed, 1 when a check failed, 2 on a usage error.
$BROWSER, when set, is the command that opens the sign-in URL.`;

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const corpus = loadCorpus();
  if (values['list-clients']) {
    for (const client of corpus)
      process.stdout.write(
        `${client.id.padEnd(14)}${client.client} (${client.version.split(/ \(|;/)[0]})\n`,
      );
    return 0;
  }
  const unknown = (values.as ?? []).filter((id) => !corpus.some((c) => c.id === id));
  if (unknown.length > 0) {
    process.stderr.write(
      `Unknown client: ${unknown.join(', ')}. Known: ${corpus.map((c) => c.id).join(', ')}\n`,
    );
    return 2;
  }
  const url = positionals[0];
  if (
    !url ||
    positionals.length > 1 ||
    !URL.canParse(url) ||
    !/^https?:$/.test(new URL(url).protocol)
  ) {
    process.stderr.write(
      `${url ? `Not an http(s) URL: ${url}` : 'The MCP server URL is missing.'}\n\n${USAGE}\n`,
    );
    return 2;
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  const timeout = values.timeout === undefined ? 300 : Number(values.timeout);
  const reuseWait = values['reuse-wait'] === undefined ? 0 : Number(values['reuse-wait']);
  if (!(reuseWait >= 0 && reuseWait <= 600)) {
    process.stderr.write('--reuse-wait must be 0-600 seconds.\n');
    return 2;
  }
  if (
    (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65_536)) ||
    !(timeout > 0)
  ) {
    process.stderr.write(`--port must be 0-65535 and --timeout a positive number of seconds.\n`);
    return 2;
  }
  const clientSecret = values['client-secret'] ?? process.env.GATEHOUSE_DOCTOR_CLIENT_SECRET;
  const print = (line: string) => process.stderr.write(`${line}\n`);
  const report = await runDoctor({
    url,
    ...(values.login
      ? {
          login: {
            open: (authorizationUrl: string, purpose: string) =>
              openBrowser(authorizationUrl, purpose, print),
            timeoutMs: timeout * 1000,
            reuseWaitSeconds: reuseWait,
          },
        }
      : {}),
    ...(values['client-id'] ? { clientId: values['client-id'] } : {}),
    ...(clientSecret ? { clientSecret } : {}),
    ...(port !== undefined ? { callbackPort: port } : {}),
    ...(values.origin ? { browserOrigin: values.origin } : {}),
    ...(values.as ? { as: values.as } : {}),
  });
  process.stdout.write(
    values.json
      ? `${JSON.stringify(report, null, 2)}\n`
      : renderText(report, { verbose: values.verbose ?? false }),
  );
  return report.ok ? 0 : 1;
}

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      login: { type: 'boolean' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      port: { type: 'string' },
      origin: { type: 'string' },
      as: { type: 'string', multiple: true },
      'list-clients': { type: 'boolean' },
      timeout: { type: 'string' },
      'reuse-wait': { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

// `gatehouse-doctor --list-clients | head`: a reader that stops early is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await main();
