import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { createAuditTrail } from '@gatehouse/audit';
import { createAuditStream } from '@gatehouse/logging';
import { ConfigError } from '@gatehouse/server-kit';
import { Accounts } from './accounts/accounts.js';
import { createOperations } from './admin/operations.js';
import { auditFilterFrom, formatAuditEvent } from './audit/audit-query.js';
import { cliPassword, loadConfig } from './config.js';
import { rotateSigningKeys } from './keys/keystore.js';
import { openStore } from './store/open-store.js';

/**
 * Operator commands against the store named by AUTH_STORE (run them with the server stopped, or
 * running servers pick up `keys rotate` within AUTH_KEY_REFRESH_INTERVAL).
 *
 *   users add <name>          password from $GATEHOUSE_PASSWORD or the first line of stdin
 *   users remove <name> | users list
 *   accounts list | accounts remove <account_id>
 *   clients list | clients delete <client_id>
 *   grants list | grants revoke <grant_id>
 *   keys list | keys rotate
 *   audit [--user|--client|--grant|--type|--since|--until|--limit] [--json]
 */

const USAGE = `usage: cli <users|accounts|clients|grants|keys> <command> [argument]
       cli audit [--user <account>] [--client <id>] [--grant <id>] [--type <type>[,<type>]]
                 [--since <ISO date|30m|12h|7d>] [--until <ISO date|duration>] [--limit <n>] [--json]
  users add <name>         (password from $GATEHOUSE_PASSWORD or stdin; never an argument)
  users remove <name>
  users list
  accounts list            (people who signed in through an upstream provider: id, upstream, username, email, last sign-in)
  accounts remove <id>     (revokes its grants and tokens; a next sign-in upstream creates it again)
  clients list
  clients delete <client_id>
  grants list              (with the last tokens issued, refresh and use the audit trail saw)
  grants revoke <grant_id>
  keys list
  keys rotate              (running servers sign with the new keys within AUTH_KEY_REFRESH_INTERVAL, 30 s by default; old public keys stay published)`;

function readPassword(): string {
  return cliPassword() ?? readFileSync(0, 'utf8').split('\n')[0] ?? '';
}

async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      user: { type: 'string' },
      client: { type: 'string' },
      grant: { type: 'string' },
      type: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [area, command, argument] = positionals;
  const config = loadConfig();
  const store = await openStore(config.store, {
    auditRetentionMs: config.audit.retentionSeconds * 1000,
  });
  // Every change an operator makes here goes on the audit trail (the store; and the audit file
  // when AUTH_AUDIT_LOG names one: stdout is this command's own output).
  const audit = createAuditTrail({
    enabled: config.audit.enabled,
    log: store.audit,
    stream:
      config.audit.log === 'stdout'
        ? undefined
        : createAuditStream({
            service: 'auth-server',
            format: 'json',
            destination: config.audit.log,
          }),
    retentionMs: config.audit.retentionSeconds * 1000,
    onStoreError: (error) =>
      console.error(`warning: the audit event could not be stored: ${(error as Error).message}`),
  });
  const accounts = new Accounts(store);
  const operations = createOperations({
    store,
    accounts,
    audit,
    actor: `cli:${userInfo().username}`,
    rotateKeys: () => rotateSigningKeys(store),
  });
  try {
    if (area === 'audit' && command === undefined) {
      const events = await audit.query(auditFilterFrom(values));
      if (values.json) console.log(JSON.stringify(events, null, 2));
      else for (const event of events) console.log(formatAuditEvent(event));
      return 0;
    }
    const key = `${area} ${command}`;
    switch (key) {
      case 'users add': {
        // Saves: adds the user, or sets a new password for one that exists.
        const username = argument ?? '';
        const password = readPassword();
        if (await accounts.exists(username)) await operations.resetPassword(username, password);
        else await operations.addUser(username, password);
        console.log(`user ${argument} saved`);
        return 0;
      }
      case 'users remove': {
        const removed = await operations.removeUser(argument ?? '');
        console.log(removed ? `user ${argument} removed, with its grants` : `no user ${argument}`);
        return 0;
      }
      case 'users list':
        for (const name of await store.listUsers()) console.log(name);
        return 0;
      case 'accounts list': {
        for (const account of await accounts.federated.list()) {
          console.log(
            [
              account.accountId,
              account.upstream,
              account.username ?? '',
              account.email ?? '',
              new Date(account.lastSignInAt).toISOString(),
            ].join('\t'),
          );
        }
        return 0;
      }
      case 'accounts remove': {
        const removed = await operations.removeAccount(argument ?? '');
        console.log(
          removed
            ? `account ${argument} removed, with its grants and tokens`
            : `no account ${argument}`,
        );
        return removed ? 0 : 1;
      }
      case 'clients list':
        for (const { id, payload } of await store.models.list('Client')) {
          console.log(
            `${id}\t${String(payload.client_name ?? '')}\t${JSON.stringify(payload.redirect_uris ?? [])}`,
          );
        }
        return 0;
      case 'clients delete': {
        const deleted = await operations.deleteClient(argument ?? '');
        console.log(
          deleted ? `client ${argument} deleted, with its grants` : `no stored client ${argument}`,
        );
        return deleted ? 0 : 1;
      }
      case 'grants list': {
        // With what the audit trail knows of each: last tokens issued, last refresh, last use at
        // an MCP server that writes its tool calls to the trail (MCP_AUDIT_STORE).
        const grants = await store.models.list('Grant');
        const activity = await audit.activity(grants.map(({ id }) => id));
        const when = (at: number | undefined) => (at ? new Date(at).toISOString() : '-');
        for (const { id, payload } of grants) {
          const seen = activity.get(id);
          console.log(
            [
              id,
              String(payload.accountId ?? ''),
              String(payload.clientId ?? ''),
              `issued ${when(seen?.issuedAt)}`,
              `refreshed ${when(seen?.refreshedAt)}`,
              `used ${when(seen?.usedAt)}`,
            ].join('\t'),
          );
        }
        return 0;
      }
      case 'grants revoke': {
        const revoked = await operations.revokeGrant(argument ?? '');
        console.log(revoked ? `grant ${argument} revoked with its tokens` : `no grant ${argument}`);
        return revoked ? 0 : 1;
      }
      case 'keys list':
        for (const k of await store.listKeys()) {
          console.log(
            `${k.kid}\t${k.alg}\t${k.retiredAt === null ? 'active' : `retired ${new Date(k.retiredAt).toISOString()}`}`,
          );
        }
        return 0;
      case 'keys rotate': {
        const kids = await operations.rotateKeys();
        console.log(
          `new signing keys: ${kids.join(', ')}; running servers sign with them within AUTH_KEY_REFRESH_INTERVAL`,
        );
        return 0;
      }
      default:
        console.error(USAGE);
        return 2;
    }
  } finally {
    await audit.flush();
    await store.close();
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  console.error(
    error instanceof ConfigError ? error.message : `error: ${(error as Error).message}`,
  );
  process.exitCode = 1;
}
