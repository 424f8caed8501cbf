import { z } from 'zod';
import { defineTool, result, SCOPE_TOOLS } from './tool.js';

/**
 * Who the server thinks is calling: user, client, scopes, expiry. Never the token. A token whose
 * subject is its own client has no user: client credentials (RFC 9068 §2.2), a machine-to-machine
 * job acting on its own.
 */
export const whoami = defineTool({
  name: 'whoami',
  scopes: [SCOPE_TOOLS],
  title: 'Who am I',
  description:
    'Shows the signed-in user, the client, the granted scopes and when the access token expires.',
  inputSchema: z.object({}),
  outputSchema: z.object({
    subject: z.string().nullable(),
    /** The signed-in user; null for a client acting on its own (client credentials). */
    user: z.string().nullable(),
    clientId: z.string(),
    scopes: z.array(z.string()),
    expiresAt: z.string().nullable(),
  }),
  annotations: { readOnlyHint: true },
  run: (_args, { authInfo }) => {
    const expiresAt = authInfo?.expiresAt
      ? new Date(authInfo.expiresAt * 1000).toISOString()
      : null;
    const subject = typeof authInfo?.extra?.subject === 'string' ? authInfo.extra.subject : null;
    const clientId = authInfo?.clientId ?? '';
    const info = {
      subject,
      user: subject === clientId ? null : subject,
      clientId,
      scopes: authInfo?.scopes ?? [],
      expiresAt,
    };
    const who =
      subject !== null && info.user === null
        ? `No user: client ${clientId} acting on its own (client credentials)`
        : `You are ${info.user ?? 'unknown'} via client ${clientId}`;
    return result(
      info,
      `${who}, scopes: ${info.scopes.join(' ') || 'none'}, token expires ${expiresAt ?? 'never'}.`,
    );
  },
});
