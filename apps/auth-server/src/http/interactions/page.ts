import type { Context } from 'koa';
import { pageCsp } from '../../ui/pages.js';

/**
 * Sends an interaction page: HTML, never cached, under the pages' CSP. Chrome applies
 * form-action to the redirects that follow a form post, so the client's redirect URI (its origin,
 * or its scheme for a native app's private-use URI) is allowed as a form target too.
 */
export function sendPage(
  ctx: Context,
  html: string,
  redirectUri: string | undefined,
  status = 200,
): void {
  const target = redirectUri ? URL.parse(redirectUri) : null;
  const formTargets = [
    "'self'",
    target ? (target.protocol.startsWith('http') ? target.origin : target.protocol) : '',
  ]
    .join(' ')
    .trim();
  ctx.set('content-security-policy', pageCsp(formTargets));
  ctx.set('cache-control', 'no-store');
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = html;
}
