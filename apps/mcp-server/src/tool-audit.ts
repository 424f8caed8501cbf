import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditTrail } from '@gatehouse/audit';
import type { AuthInfo } from '@modelcontextprotocol/server';

/**
 * Every tool call on the audit trail (the log stream, and the authorization server's store when
 * MCP_AUDIT_STORE names it): who (the token's subject, or the client acting on its own), which
 * client and grant, the tool, the outcome and how long it took, and the request id. Never the
 * result or the token; the arguments only when the operator asks (MCP_AUDIT_ARGUMENTS).
 */
export type ToolCallAudit = (call: {
  readonly tool: string;
  readonly authInfo: AuthInfo | undefined;
  /** `denied`: refused before the tool ran (the token lacks the tool's scopes). */
  readonly outcome: 'success' | 'failure' | 'denied';
  readonly durationMs: number;
  /** Default: the request being handled (requestScope). */
  readonly requestId?: string | undefined;
  /** The call's arguments: on the trail only with MCP_AUDIT_ARGUMENTS=true. */
  readonly arguments?: unknown;
}) => void;

/** The tool of each `tools/call` in a JSON-RPC message or batch. */
export function toolCallNames(message: unknown): string[] {
  return (Array.isArray(message) ? message : [message]).flatMap((one: unknown) => {
    const { method, params } = (one ?? {}) as { method?: unknown; params?: { name?: unknown } };
    return method === 'tools/call' && typeof params?.name === 'string' ? [params.name] : [];
  });
}

/** The request being handled, for the SDK's server factory and the tools it registers. */
export const requestScope = new AsyncLocalStorage<{ readonly requestId: string | undefined }>();

/** The claim Gatehouse's JWT access tokens name their grant with (auth-server introspection.ts). */
const GRANT_CLAIM = 'grant_id';

export function createToolCallAudit(
  trail: AuditTrail,
  /** Told of every call, whether or not the trail is kept (metrics). */
  observe: ToolCallAudit = () => {},
  /** MCP_AUDIT_ARGUMENTS: add each call's arguments (JSON, cut at 512 characters by the trail). */
  includeArguments = false,
): ToolCallAudit {
  return (call) => {
    observe(call);
    const { tool, authInfo, outcome, durationMs, requestId } = call;
    const extra = authInfo?.extra as
      | { subject?: string; claims?: Readonly<Record<string, unknown>> }
      | undefined;
    const grant = extra?.claims?.[GRANT_CLAIM];
    trail.record({
      type: 'tool_call',
      outcome,
      actor: extra?.subject ?? authInfo?.clientId,
      client: authInfo?.clientId,
      resource: authInfo?.resource?.href,
      grant: typeof grant === 'string' ? grant : undefined,
      requestId: requestId ?? requestScope.getStore()?.requestId,
      detail: {
        tool,
        duration_ms: String(Math.round(durationMs * 10) / 10),
        ...(includeArguments && call.arguments !== undefined
          ? { arguments: JSON.stringify(call.arguments) }
          : {}),
      },
    });
  };
}

/** A request refused for its caller's rate limit, on the audit trail (who is hammering). */
export type RateLimitAudit = (refused: {
  readonly authInfo: AuthInfo;
  readonly policy: string;
  readonly requestId: string | undefined;
}) => void;

export function createRateLimitAudit(trail: AuditTrail): RateLimitAudit {
  return ({ authInfo, policy, requestId }) => {
    const extra = authInfo.extra as { subject?: string } | undefined;
    trail.record({
      type: 'rate_limited',
      outcome: 'denied',
      actor: extra?.subject ?? authInfo.clientId,
      client: authInfo.clientId,
      resource: authInfo.resource?.href,
      requestId,
      detail: { policy },
    });
  };
}
