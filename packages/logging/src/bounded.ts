/**
 * Log fields are bounded: a request can put anything into a path, a username, an Origin or a Host
 * header, and a line must stay a line, not 15 KB of an attacker's input. Strings are cut to
 * {@link MAX_FIELD_LENGTH} characters (stacks to {@link MAX_STACK_LENGTH}), arrays to
 * {@link MAX_ITEMS} items, objects below {@link MAX_DEPTH} levels are summarised.
 */
export const MAX_FIELD_LENGTH = 256;
export const MAX_STACK_LENGTH = 4096;
export const MAX_ITEMS = 20;
export const MAX_DEPTH = 4;

function boundString(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max)}…(${value.length} chars)`;
}

function bound(value: unknown, key: string, depth: number): unknown {
  if (typeof value === 'string')
    return boundString(value, key === 'stack' ? MAX_STACK_LENGTH : MAX_FIELD_LENGTH);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? '[array]' : '[object]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => bound(item, '', depth + 1));
    if (value.length > MAX_ITEMS) items.push(`…(${value.length} items)`);
    return items;
  }
  if (value instanceof Error)
    return bound({ name: value.name, message: value.message, stack: value.stack }, key, depth);
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) out[name] = bound(item, name, depth + 1);
  return out;
}

/** pino's `formatters.log`: the bounded copy of a line's fields. */
export function boundFields(fields: Record<string, unknown>): Record<string, unknown> {
  return bound(fields, '', 0) as Record<string, unknown>;
}
