import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Keycloak 26.6+ runs on OpenJDK 17, 21 and 25; 25 is preferred. */
const MIN_JAVA = 17;

function javaMajor(home: string): number | undefined {
  const java = join(home, 'bin', 'java');
  if (!existsSync(java)) return undefined;
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)/.exec(`${result.stderr}${result.stdout}`);
  return match ? Number(match[1]) : undefined;
}

/**
 * The JDK to run Keycloak with: `$JAVA_HOME` when set (it must be 17+), otherwise the newest JDK
 * under /usr/lib/jvm (Debian puts a Temurin 25 beside the default 17 on our machines).
 */
export function findJavaHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JAVA_HOME) {
    const major = javaMajor(env.JAVA_HOME);
    if (major === undefined) throw new Error(`JAVA_HOME=${env.JAVA_HOME} has no bin/java`);
    if (major < MIN_JAVA)
      throw new Error(`JAVA_HOME=${env.JAVA_HOME} is Java ${major}; Keycloak needs ${MIN_JAVA}+`);
    return env.JAVA_HOME;
  }
  const jvmDir = '/usr/lib/jvm';
  const candidates = existsSync(jvmDir)
    ? readdirSync(jvmDir)
        .map((name) => join(jvmDir, name))
        .map((home) => ({ home, major: javaMajor(home) ?? 0 }))
        .filter((c) => c.major >= MIN_JAVA)
        .sort((a, b) => b.major - a.major)
    : [];
  const best = candidates[0];
  if (!best)
    throw new Error(
      `no Java ${MIN_JAVA}+ found: install a JDK (25 recommended) and set JAVA_HOME to it`,
    );
  return best.home;
}
