import { readdirSync, readFileSync } from 'node:fs';

/**
 * Resident memory of a process tree, read from Linux's /proc: a launcher script and what it started
 * (Keycloak is `/bin/sh kc.sh` → `java`) count as one server.
 */

export interface ProcessRss {
  readonly pid: number;
  /** The executable name (`/proc/<pid>/comm`), e.g. `sh`, `java`, `node`. */
  readonly command: string;
  readonly rssKb: number;
}

export interface TreeRss {
  /** Sum of VmRSS over the tree, in MiB. */
  readonly totalMb: number;
  readonly processes: readonly ProcessRss[];
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process (or thread) has exited meanwhile
  }
}

/** Direct children of `pid`, over all of its threads (`/proc/<pid>/task/<tid>/children`). */
export function childPids(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const children = new Set<number>();
  for (const tid of tasks) {
    for (const child of (read(`/proc/${pid}/task/${tid}/children`) ?? '').split(/\s+/)) {
      if (child) children.add(Number(child));
    }
  }
  return [...children];
}

/** `pid` and all of its descendants, parents first. */
export function processTree(pid: number): number[] {
  const tree: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    tree.push(next);
    queue.push(...childPids(next));
  }
  return tree;
}

/** VmRSS of one process in KiB (0 when it has exited). */
export function rssKb(pid: number): number {
  const status = read(`/proc/${pid}/status`) ?? '';
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
}

/** RSS summed over the process tree rooted at `pid`. */
export function treeRss(pid: number): TreeRss {
  const processes = processTree(pid).map((p) => ({
    pid: p,
    command: (read(`/proc/${p}/comm`) ?? '?').trim(),
    rssKb: rssKb(p),
  }));
  const totalKb = processes.reduce((sum, p) => sum + p.rssKb, 0);
  return { totalMb: totalKb / 1024, processes };
}

/** Whether `pid` is still alive (and not a zombie). */
export function isAlive(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return false;
  // Field 3, after the parenthesised command name, is the state; Z = zombie, X = dead.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat (Linux; clock
 * ticks of 10 ms, so read it over runs of seconds). 0 elsewhere.
 */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (in parentheses, which may hold spaces): utime is the 12th
    // and stime the 13th of them (fields 14 and 15 of the line).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}
