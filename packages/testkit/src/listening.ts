import { readdir, readFile, readlink } from 'node:fs/promises';

/** Inodes of the TCP sockets in LISTEN state on `port` (IPv4 and IPv6), from /proc/net. */
async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    // sl local_address rem_address st ... inode; st 0A is LISTEN.
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const inode = fields[9];
      if (fields[3] === '0A' && fields[1]?.endsWith(hexPort) && inode) inodes.add(inode);
    }
  }
  return inodes;
}

/**
 * Whether process `pid` itself holds a socket listening on `port`; `undefined` where /proc cannot
 * tell (not Linux). Proves a server is ours when it prints no ready line (e.g. LOG_LEVEL=warn).
 */
export async function listensOn(pid: number, port: number): Promise<boolean | undefined> {
  if (process.platform !== 'linux') return undefined;
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return false;
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode && inodes.has(inode)) return true;
  }
  return false;
}
