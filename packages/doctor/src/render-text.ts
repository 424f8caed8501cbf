import type { Finding, FindingStatus, Report } from './report.js';

const MARK: Record<FindingStatus, string> = {
  pass: '✔',
  info: 'ℹ',
  skip: '–',
  warn: '!',
  fail: '✖',
};
const STEP_TITLE: Record<Finding['step'], string> = {
  challenge: '401 challenge',
  'resource-metadata': 'Protected resource metadata',
  'authorization-server-metadata': 'Authorization server metadata',
  registration: 'Test registration',
  'authorization-request': 'Authorization request',
  'token-endpoint': 'Token endpoint',
  cors: 'Browser clients (CORS)',
  login: 'Sign-in',
  token: 'Access token',
  mcp: 'MCP calls with the token',
  refresh: 'Refresh',
  clients: 'Clients',
};

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}

/**
 * The report for a terminal: every step with one line per check, and for each problem why it
 * matters, the clause, the fix and the HTTP exchange that shows it. `verbose` adds the evidence
 * of passing checks too.
 */
export function renderText(report: Report, options: { verbose?: boolean } = {}): string {
  const out: string[] = [`gatehouse doctor ${report.version}: ${report.target}`, ''];
  let step: Finding['step'] | undefined;
  for (const finding of report.findings) {
    if (finding.step !== step) {
      step = finding.step;
      out.push(STEP_TITLE[step]);
    }
    out.push(`  ${MARK[finding.status]} ${finding.title}  [${finding.id}]`);
    const problem = finding.status === 'warn' || finding.status === 'fail';
    if (!problem && !options.verbose) continue;
    if (finding.detail && (problem || finding.status === 'info'))
      out.push(indent(finding.detail, '      '));
    if (finding.clause) out.push(`      Spec: ${finding.clause}`);
    if (finding.fix) out.push(`      Fix: ${finding.fix}`);
    for (const evidence of finding.evidence ?? []) {
      out.push(
        '      Evidence:',
        indent(evidence.request, '        > '),
        indent(evidence.response, '        < '),
      );
    }
  }
  if (report.clients?.length) {
    const signedIn = !report.findings.some((f) => f.id === 'clients.login');
    out.push(
      '',
      'How each known client will fare (habits from the client corpus; --as <id> for one in detail)',
    );
    const name = (client: string) => client.replace(/ \(.*\)$/, '');
    const width = Math.max(...report.clients.map((c) => name(c.client).length));
    const first = report.clients[0];
    const shared = first?.reasons.length === 1 ? first.reasons[0] : undefined;
    const allAlike = report.clients.every(
      (c) => c.status === first?.status && c.reasons.length === 1 && c.reasons[0] === shared,
    );
    if (first && shared && allAlike) {
      out.push(`  ${MARK[first.status]} every client: ${shared}`);
    } else {
      for (const client of report.clients) {
        const fine = signedIn
          ? 'connects, signs in, refreshes'
          : 'no problem before sign-in (--login checks the rest)';
        out.push(
          `  ${MARK[client.status]} ${name(client.client).padEnd(width)}  ${client.reasons[0] ?? fine}`,
        );
        for (const reason of client.reasons.slice(1))
          out.push(`    ${''.padEnd(width)}  ${reason}`);
      }
    }
  }
  const { summary } = report;
  out.push(
    '',
    `${summary.fail} failed, ${summary.warn} warnings, ${summary.pass} passed, ${summary.info} notes, ${summary.skip} skipped (${(report.durationMs / 1000).toFixed(1)} s)`,
  );
  return `${out.join('\n')}\n`;
}
