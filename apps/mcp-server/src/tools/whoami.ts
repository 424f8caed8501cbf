import { z } from 'zod';
import { result, SCOPE_TOOLS, type ToolModule } from './tool.js';

/** Who the server thinks is calling: subject, client, scopes, expiry. Never the token. */
export const whoami: ToolModule = {
  name: 'whoami',
  scopes: [SCOPE_TOOLS],
  register(server, { authInfo }) {
    server.registerTool(
      'whoami',
      {
        title: 'Who am I',
        description:
          'Shows the signed-in user, the client, the granted scopes and when the access token expires.',
        inputSchema: z.object({}),
        outputSchema: z.object({
          subject: z.string().nullable(),
          clientId: z.string(),
          scopes: z.array(z.string()),
          expiresAt: z.string().nullable(),
        }),
        annotations: { readOnlyHint: true },
        _meta: { 'gatehouse/scopes': [SCOPE_TOOLS] },
      },
      async () => {
        const expiresAt = authInfo?.expiresAt
          ? new Date(authInfo.expiresAt * 1000).toISOString()
          : null;
        const info = {
          subject: typeof authInfo?.extra?.subject === 'string' ? authInfo.extra.subject : null,
          clientId: authInfo?.clientId ?? '',
          scopes: authInfo?.scopes ?? [],
          expiresAt,
        };
        return result(
          info,
          `You are ${info.subject ?? 'unknown'} via client ${info.clientId}, scopes: ${info.scopes.join(' ') || 'none'}, token expires ${expiresAt ?? 'never'}.`,
        );
      },
    );
  },
};
