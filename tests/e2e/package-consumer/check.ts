// A consumer of @gatehouse/auth-core installed from its tarball, outside the workspace: the code
// a user would write. test/auth-core-package.test.ts copies it into a scratch project, compiles
// it with tsc (strict, NodeNext) against the package's own types, and runs it with a real token.
import {
  createResourceServer,
  type ResourceServer,
  scopesForToolCalls,
} from '@gatehouse/auth-core';
import { authenticateFetchRequest, requireScopesResponse } from '@gatehouse/auth-core/fetch';
import { koaAuth, koaRequireScopes } from '@gatehouse/auth-core/koa';
import { authenticateNodeRequest, requireScopes } from '@gatehouse/auth-core/node';

const { RESOURCE = '', ISSUER = '', TOKEN = '' } = process.env;

const rs: ResourceServer = createResourceServer({
  resource: RESOURCE,
  issuer: ISSUER,
  verification: { mode: 'jwt' },
  requiredScopes: ['mcp:tools'],
});
const request = new Request(RESOURCE, {
  method: 'POST',
  headers: { authorization: `Bearer ${TOKEN}` },
});
const auth = await authenticateFetchRequest(rs, request);
if (auth instanceof Response) {
  console.log(JSON.stringify({ ok: false, status: auth.status }));
} else {
  const needed = scopesForToolCalls(
    { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'admin_tool' } },
    new Map([['admin_tool', ['mcp:tools', 'mcp:admin']]]),
  );
  const denied = requireScopesResponse(rs, auth, needed);
  console.log(
    JSON.stringify({
      ok: true,
      subject: auth.extra.subject,
      clientId: auth.clientId,
      stepUpStatus: denied?.status ?? null,
      adapters: [koaAuth, koaRequireScopes, authenticateNodeRequest, requireScopes].map(
        (adapter) => typeof adapter,
      ),
    }),
  );
}
