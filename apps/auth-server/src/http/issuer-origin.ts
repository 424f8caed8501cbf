import type { Context, Next } from 'koa';

/**
 * oidc-provider builds every URL it publishes (discovery endpoints, `registration_client_uri`,
 * redirects to the sign-in pages) from the request's protocol and Host. Once the host guard has
 * refused requests for other hosts, each request is made to name the issuer's own origin, so those
 * URLs come from AUTH_ISSUER whatever alias (127.0.0.1 for localhost), port spelling or forwarded
 * protocol the request arrived with.
 *
 * oidc-provider trusts X-Forwarded-* (`provider.proxy = true`, provider/configuration.ts) because
 * this middleware overwrites them with checked values: the issuer's protocol and host, and the
 * client address koa determined under AUTH_PROXY's rule (the socket's address without it).
 */
export function issuerOrigin(issuer: string) {
  const { protocol, host } = new URL(issuer);
  const proto = protocol.slice(0, -1);
  return async (ctx: Context, next: Next): Promise<void> => {
    const { headers } = ctx.req;
    const clientAddress = ctx.ip;
    headers.host = host;
    headers['x-forwarded-host'] = host;
    headers['x-forwarded-proto'] = proto;
    headers['x-forwarded-for'] = clientAddress;
    await next();
  };
}
