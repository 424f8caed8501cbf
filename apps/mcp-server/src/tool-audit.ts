import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '@gatehouse/logging';
import type { AuthInfo } from '@modelcontextprotocol/server';

/**
 * Every tool call on the audit log stream: who (the token's subject, or the client acting on its
 * own), which client and grant, the tool, the outcome and how long it took, and the request id.
 * Never the arguments, the result or the token.
 */
export type ToolCallAudit = (call: {
  readonly tool: string;
  readonly authInfo: AuthInfo | undefined;
  readonly outcome: 'success' | 'failure';
  readonly durationMs: number;
}) => void;

/** The request being handled, for the SDK's server factory and the tools it registers. */
export const requestScope = new AsyncLocalStorage<{ readonly requestId: string | undefined }>();

/** The claim Gatehouse's JWT access tokens name their grant with (auth-server introspection.ts). */
const GRANT_CLAIM = 'grant_id';

export function createToolCallAudit(logger: Logger | undefined): ToolCallAudit {
  if (!logger) return () => {};
  return ({ tool, authInfo, outcome, durationMs }) => {
    const extra = authInfo?.extra as
      | { subject?: string; claims?: Readonly<Record<string, unknown>> }
      | undefined;
    const grant = extra?.claims?.[GRANT_CLAIM];
    const audit = {
      at: Date.now(),
      type: 'tool_call',
      outcome,
      actor: extra?.subject ?? authInfo?.clientId,
      client: authInfo?.clientId,
      resource: authInfo?.resource?.href,
      ...(typeof grant === 'string' ? { grant } : {}),
      requestId: requestScope.getStore()?.requestId,
      detail: { tool, duration_ms: String(Math.round(durationMs * 10) / 10) },
    };
    logger.info({ audit }, `audit tool_call ${outcome}`);
  };
}
