import type { AuditTrail } from '@gatehouse/audit';
import type { Logger } from '@gatehouse/logging';
import type { Accounts } from '../../accounts/accounts.js';
import type { LoginThrottle } from '../login-throttle.js';
import type { Interaction } from './interaction.js';

/**
 * POST of the sign-in form: throttled per username and address (429 with Retry-After), the same
 * 401 for an unknown user and a wrong password, and on success the interaction's login result.
 */
export async function submitLogin(
  interaction: Interaction,
  form: Readonly<Record<string, unknown>>,
  deps: {
    readonly accounts: Accounts;
    readonly throttle: LoginThrottle;
    readonly logger: Logger;
    readonly audit: AuditTrail;
  },
): Promise<void> {
  const { ctx, uid } = interaction;
  const audit = (outcome: 'success' | 'failure', actor: string, reason?: string) =>
    deps.audit.record({
      type: 'sign_in',
      outcome,
      actor,
      client: interaction.params.client_id,
      requestId: ctx.state.requestId as string | undefined,
      ...(reason ? { detail: { reason } } : {}),
    });
  const username = typeof form.username === 'string' ? form.username.trim() : '';
  const password = typeof form.password === 'string' ? form.password : '';
  const wait = await deps.throttle.retryAfterMs(username, ctx.ip);
  if (wait > 0) {
    const minutes = Math.ceil(wait / 60_000);
    deps.logger.warn({ uid, username, ip: ctx.ip }, 'sign-in throttled');
    audit('failure', username, 'throttled');
    ctx.set('retry-after', String(Math.ceil(wait / 1000)));
    interaction.loginPage(429, {
      username,
      error: `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
    });
    return;
  }
  const accountId =
    username && password ? await deps.accounts.authenticate(username, password) : undefined;
  if (!accountId) {
    await deps.throttle.recordFailure(username, ctx.ip);
    deps.logger.info({ uid, username, ip: ctx.ip }, 'sign-in failed');
    audit('failure', username, 'wrong username or password');
    interaction.loginPage(401, { username, error: 'Wrong username or password.' });
    return;
  }
  await deps.throttle.recordSuccess(username);
  audit('success', accountId);
  await interaction.finish({ login: { accountId } }, false);
}
