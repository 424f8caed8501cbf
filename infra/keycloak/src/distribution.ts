import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KEYCLOAK_VERSION = '26.7.3';

/**
 * Where Keycloak is downloaded, unpacked and built: `KEYCLOAK_CACHE_DIR`, else `.tools/keycloak` at
 * the repository root (outside git). The CLI, the tests, the comparison script and the bench share it.
 */
export function keycloakCacheDir(): string {
  return (
    process.env.KEYCLOAK_CACHE_DIR ??
    fileURLToPath(new URL('../../../.tools/keycloak', import.meta.url))
  );
}

export interface Distribution {
  /** The unpacked Keycloak (`bin/kc.sh`, `data/`, `lib/`). */
  readonly home: string;
  readonly version: string;
}

export interface BuildOptions {
  readonly javaHome: string;
  /** Experimental features baked into the build, e.g. `resource-indicators`, `cimd`. */
  readonly features?: readonly string[];
  /** Progress lines (download, unpack, build); silent by default. */
  readonly log?: (line: string) => void;
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }) {
  const result = spawnSync(command, args, { ...options, encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}${result.stderr}`,
    );
}

/**
 * Downloads `org.keycloak:keycloak-quarkus-dist:<version>:zip` with Maven (which keeps its own copy
 * in ~/.m2), unpacks it under `cacheDir`, and runs `kc.sh build` once for the options we start it
 * with, so later starts use `start --optimized` and skip Quarkus' build step (about 20 s on 2 cores).
 * A marker file records the build options; changing them rebuilds.
 */
export function ensureDistribution(
  cacheDir: string,
  options: BuildOptions,
  version = KEYCLOAK_VERSION,
): Distribution {
  const log = options.log ?? (() => {});
  // One unpacked copy per feature set, so tests with and without experimental features never
  // rebuild each other's server (a build takes about 20 s).
  const features = [...(options.features ?? [])].sort();
  const home = join(
    cacheDir,
    `keycloak-${version}${features.length ? `+${features.join('+')}` : ''}`,
  );
  mkdirSync(cacheDir, { recursive: true });
  if (!existsSync(join(home, 'bin', 'kc.sh'))) {
    const zip = join(cacheDir, `keycloak-quarkus-dist-${version}.zip`);
    if (!existsSync(zip)) {
      log(`fetching keycloak-quarkus-dist ${version} with Maven`);
      run(
        'mvn',
        [
          '-q',
          'dependency:copy',
          `-Dartifact=org.keycloak:keycloak-quarkus-dist:${version}:zip`,
          `-DoutputDirectory=${cacheDir}`,
        ],
        { cwd: cacheDir },
      );
    }
    log(`unpacking ${zip}`);
    rmSync(home, { recursive: true, force: true });
    const staging = `${home}.unpacking`;
    rmSync(staging, { recursive: true, force: true });
    run('unzip', ['-q', '-o', zip, '-d', staging], {});
    renameSync(join(staging, `keycloak-${version}`), home);
    rmSync(staging, { recursive: true, force: true });
    chmodSync(join(home, 'bin', 'kc.sh'), 0o755);
  }
  const buildArgs = [
    'build',
    '--db=dev-file',
    '--cache=local',
    '--health-enabled=true',
    ...(features.length ? [`--features=${features.join(',')}`] : []),
  ];
  const marker = join(home, '.gatehouse-build');
  const wanted = JSON.stringify(buildArgs);
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== wanted) {
    log(`building Keycloak (${buildArgs.slice(1).join(' ')})`);
    run(join(home, 'bin', 'kc.sh'), buildArgs, {
      cwd: home,
      env: { ...process.env, JAVA_HOME: options.javaHome },
    });
    writeFileSync(marker, wanted);
  }
  return { home, version };
}
