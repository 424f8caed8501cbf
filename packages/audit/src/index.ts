export {
  AUDIT_EVENT_TYPES,
  type AuditEvent,
  type AuditEventType,
  type AuditFilter,
  type AuditLog,
  type AuditOutcome,
  type GrantActivity,
  latestActivity,
  matchesAuditFilter,
} from './audit-event.js';
export { type AuditTrail, createAuditTrail } from './audit-trail.js';
export { type OpenedAuditLog, openSqliteAuditLog } from './open-audit-log.js';
export { RedisAuditLog, type RedisCommand } from './redis-audit-log.js';
export { AUDIT_SCHEMA, SqliteAuditLog, type SqliteCall } from './sqlite-audit-log.js';
