import type { ExchangeResult } from './connection.js';
import type { Finding } from './findings.js';
import type { PlannedRequest } from './plan.js';
import type { SecretRegistry } from './secrets.js';
import { closesConnection } from './wire.js';

/**
 * The checks, as pure functions of what was sent and what came back, so a unit test can plant each
 * defect and see it reported.
 */

/** The foreign host names of a run: unique to the seed, so nothing else can contain them. */
export function foreignHost(seed: number, variant = 0): string {
  return variant === 0 ? `evil-${seed}.example` : `evil-${seed}-${variant}.example`;
}

/** Matches any of the run's foreign host names, in any case. */
export function foreignHostPattern(seed: number): RegExp {
  return new RegExp(`evil-${seed}(?:-\\d+)?\\.example`, 'i');
}

function statusSummary(result: ExchangeResult, index: number, previous?: PlannedRequest): string {
  if (result.responses.length === 0) return `no response (${describeEnd(result, index, previous)})`;
  return result.responses.map((r) => r.statusLine).join(' | ');
}

/**
 * How the exchange ended. On a reused connection the request before it may be the cause, so it
 * is named, with the replay that sends both on one connection.
 */
function describeEnd(result: ExchangeResult, index: number, previous?: PlannedRequest): string {
  const reuse =
    result.after === undefined
      ? 'on a new connection'
      : `on a connection reused after #${result.after}${previous ? ` (${previous.app} ${previous.endpoint}, ${previous.bytes.length} bytes)` : ''}; replay both with FUZZ_ONLY=${result.after},${index} FUZZ_CONCURRENCY=1`;
  const parts = [
    result.timedOut ? 'timed out' : result.closed ? 'closed by the server' : 'open',
    result.error ? `error ${result.error}` : '',
    reuse,
  ];
  return parts.filter(Boolean).join(', ');
}

function bodyExcerpt(body: Buffer): string {
  const text = body.subarray(0, 300).toString('utf8').replace(/\s+/g, ' ');
  return text ? ` body: ${text}` : '';
}

/** What one exchange shows: 5xx, no answer, a cut-short answer, a foreign host in the answer. */
export function checkExchange(
  plan: PlannedRequest,
  result: ExchangeResult,
  foreign: RegExp,
  previous?: PlannedRequest,
): Finding[] {
  const findings: Finding[] = [];
  const example = plan.bytes.toString('latin1');
  const base = { endpoint: `${plan.app} ${plan.endpoint}`, example, index: plan.index };
  for (const response of result.responses) {
    if (response.status >= 500)
      findings.push({
        ...base,
        kind: 'server-error',
        detail: `${response.statusLine}${bodyExcerpt(response.body)}`,
      });
    if (!response.complete && !response.streaming)
      findings.push({
        ...base,
        kind: 'incomplete-response',
        detail: `${response.statusLine}: body cut short (${describeEnd(result, plan.index, previous)})`,
      });
  }
  if (plan.expect === 'answer') {
    const answered = result.responses.length;
    const wanted = plan.methods.length;
    const closedEarly = result.responses.some((r) => closesConnection(r));
    // A server that neither reads the whole request nor answers it hangs the client too.
    if (answered === 0 && result.timedOut)
      findings.push({
        ...base,
        kind: 'no-answer',
        detail: `no response${result.sent ? '' : ' (request not fully read)'} (${describeEnd(result, plan.index, previous)})`,
      });
    else if (!result.sent) {
      // Reset while we were still writing: the answer may have been lost with the reset.
    } else if (answered === 0)
      findings.push({
        ...base,
        kind: 'dropped-connection',
        detail: `no response (${describeEnd(result, plan.index, previous)})`,
      });
    else if (answered < wanted && !closedEarly)
      findings.push({
        ...base,
        kind: result.timedOut ? 'no-answer' : 'dropped-connection',
        detail: `${answered} of ${wanted} pipelined requests answered, then ${result.timedOut ? 'nothing more' : 'the connection ended without Connection: close'} (${describeEnd(result, plan.index, previous)})`,
      });
  }
  const raw = result.raw.toString('latin1');
  const named = [
    foreign.exec(raw)?.[0],
    ...plan.foreignHosts.filter((host) => includesFolded(raw, host)),
  ];
  const reflected = named.find((host): host is string => host !== undefined);
  if (reflected)
    findings.push({
      ...base,
      kind: 'reflected-host',
      detail: `"${reflected}" in the answer: ${statusSummary(result, plan.index, previous)} … ${contextOf(raw, reflected)}`,
    });
  return findings;
}

function includesFolded(text: string, needle: string): boolean {
  return needle.length > 0 && text.toLowerCase().includes(needle.toLowerCase());
}

function contextOf(text: string, needle: string): string {
  const at = text.toLowerCase().indexOf(needle.toLowerCase());
  return JSON.stringify(text.slice(Math.max(0, at - 80), at + needle.length + 40));
}

/**
 * Every line a process wrote must be a JSON object (its logger's), except `allowed` lines, which
 * must match exactly (a startup banner). One finding per distinct line shape.
 */
export function checkLogLines(
  service: string,
  output: string,
  allowed: readonly RegExp[] = [],
): Finding[] {
  const findings: Finding[] = [];
  const lines = output.split('\n');
  lines.forEach((line, number) => {
    if (line === '' && number === lines.length - 1) return;
    if (allowed.some((pattern) => pattern.test(line))) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return;
    // The line itself is the detail, so a summary shows different lines, not the same one thrice.
    findings.push({
      kind: 'non-json-log-line',
      endpoint: `${service} log`,
      detail: `line ${number + 1}: ${JSON.stringify(line.slice(0, 200))}`,
      example: line,
    });
  });
  return findings;
}

/** Every occurrence of a known secret in a process's output, one finding per line and secret. */
export function checkLogSecrets(
  service: string,
  output: string,
  secrets: SecretRegistry,
): Finding[] {
  const findings: Finding[] = [];
  const lineStarts: number[] = [0];
  for (let i = output.indexOf('\n'); i >= 0; i = output.indexOf('\n', i + 1))
    lineStarts.push(i + 1);
  const lineOf = (at: number) => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= at) low = mid;
      else high = mid - 1;
    }
    return low;
  };
  const reported = new Set<string>();
  for (const { entry, at } of secrets.find(output)) {
    const line = lineOf(at);
    const key = `${line}:${entry.label}`;
    if (reported.has(key)) continue;
    reported.add(key);
    const start = lineStarts[line] ?? 0;
    const end = output.indexOf('\n', start);
    findings.push({
      kind: 'secret-in-log',
      endpoint: `${service} log`,
      detail: `${entry.label} on line ${line + 1}`,
      example: output.slice(start, end < 0 ? undefined : end),
    });
  }
  return findings;
}
