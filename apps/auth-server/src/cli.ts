import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '@gatehouse/server-kit';
import { Accounts } from './accounts/accounts.js';
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
 */

const USAGE = `usage: cli <users|accounts|clients|grants|keys> <command> [argument]
  users add <name>         (password from $GATEHOUSE_PASSWORD or stdin; never an argument)
  users remove <name>
  users list
  accounts list            (people who signed in through an upstream provider: id, upstream, username, email, last sign-in)
  accounts remove <id>     (revokes its grants and tokens; a next sign-in upstream creates it again)
  clients list
  clients delete <client_id>
  grants list
  grants revoke <grant_id>
  keys list
  keys rotate              (running servers sign with the new keys within AUTH_KEY_REFRESH_INTERVAL, 30 s by default; old public keys stay published)`;

function readPassword(): string {
  return cliPassword() ?? readFileSync(0, 'utf8').split('\n')[0] ?? '';
}

async function run(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true });
  const [area, command, argument] = positionals;
  const config = loadConfig();
  const store = await openStore(config.store);
  try {
    const key = `${area} ${command}`;
    switch (key) {
      case 'users add': {
        if (!argument || !/^[\w.@-]{1,64}$/.test(argument))
          throw new Error('users add needs a username of letters, digits, . _ @ -');
        const password = readPassword();
        if (password.length < 8) throw new Error('the password must have at least 8 characters');
        await new Accounts(store).add(argument, password);
        console.log(`user ${argument} saved`);
        return 0;
      }
      case 'users remove':
        console.log(
          (await store.deleteUser(argument ?? ''))
            ? `user ${argument} removed`
            : `no user ${argument}`,
        );
        return 0;
      case 'users list':
        for (const name of await store.listUsers()) console.log(name);
        return 0;
      case 'accounts list': {
        const accounts = new Accounts(store).federated;
        for (const account of await accounts.list()) {
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
        const removed = await new Accounts(store).federated.remove(argument ?? '');
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
      case 'clients delete':
        await store.models.destroy('Client', argument ?? '');
        console.log(`client ${argument} deleted`);
        return 0;
      case 'grants list':
        for (const { id, payload } of await store.models.list('Grant')) {
          console.log(
            `${id}\t${String(payload.accountId ?? '')}\t${String(payload.clientId ?? '')}`,
          );
        }
        return 0;
      case 'grants revoke':
        await store.models.revokeByGrantId(argument ?? '');
        await store.models.destroy('Grant', argument ?? '');
        console.log(`grant ${argument} revoked with its tokens`);
        return 0;
      case 'keys list':
        for (const k of await store.listKeys()) {
          console.log(
            `${k.kid}\t${k.alg}\t${k.retiredAt === null ? 'active' : `retired ${new Date(k.retiredAt).toISOString()}`}`,
          );
        }
        return 0;
      case 'keys rotate': {
        const kids = await rotateSigningKeys(store);
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
