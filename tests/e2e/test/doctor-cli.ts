import { type Finding, type Report, renderText } from '@gatehouse/doctor';
import { runToExit } from '@gatehouse/testkit';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const CLI = `${repoRoot}packages/doctor/dist/cli.js`;
const BROWSER = `${process.execPath} --import tsx ${repoRoot}tests/e2e/doctor/headless-browser.ts`;

export interface DoctorRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The report, when run with --json. */
  readonly report?: Report;
}

/**
 * The published CLI (packages/doctor/dist/cli.js) as users run it; with `login`, $BROWSER is the
 * headless browser that signs in as that user on the real pages.
 */
export async function runDoctorCli(
  args: readonly string[],
  login?: { readonly username: string; readonly password: string },
): Promise<DoctorRun> {
  const run = await runToExit(process.execPath, [CLI, ...args], {
    cwd: `${repoRoot}tests/e2e`,
    env: {
      ...process.env,
      ...(login
        ? {
            BROWSER,
            DOCTOR_LOGIN_USERNAME: login.username,
            DOCTOR_LOGIN_PASSWORD: login.password,
          }
        : {}),
    },
  });
  let report: Report | undefined;
  if (args.includes('--json')) {
    try {
      report = JSON.parse(run.stdout) as Report;
    } catch {
      report = undefined;
    }
  }
  return { ...run, ...(report ? { report } : {}) };
}

/** The problems of a report: every warn and fail, as `id: title`. */
export function problems(report: Report | undefined): string[] {
  return (report?.findings ?? [])
    .filter((f) => f.status === 'warn' || f.status === 'fail')
    .map((f) => `${f.id} (${f.status}): ${f.title}`);
}

/**
 * The CLI against `url` with --json (and a 30 s sign-in timeout); DEBUG_DOCTOR=1 prints each
 * report as the CLI prints it without --json.
 */
export async function runDoctorJson(
  url: string,
  args: readonly string[],
  login?: { readonly username: string; readonly password: string },
): Promise<DoctorRun> {
  const run = await runDoctorCli([url, ...args, '--json', '--timeout', '30'], login);
  if (process.env.DEBUG_DOCTOR)
    console.log(run.report ? renderText(run.report) : `${run.stdout}\n${run.stderr}`);
  return run;
}

export const findingOf = (run: DoctorRun, id: string): Finding | undefined =>
  run.report?.findings.find((f) => f.id === id);
