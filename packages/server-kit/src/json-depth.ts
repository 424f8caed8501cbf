/**
 * Nesting depth of JSON text, counted without parsing or recursion: `[` and `{` outside strings.
 * Deeply nested bodies are refused before anything recursive (JSON.parse's consumers, schema
 * validators, canonicalisers) walks them: a few thousand levels overflow the stack of any of them
 * and cost a lot of CPU first. Legitimate OAuth and MCP messages nest a handful of levels.
 */
export const MAX_JSON_DEPTH = 64;

/** True when `text` (JSON, or anything) nests arrays and objects no deeper than `max`. */
export function jsonDepthWithin(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return false;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return true;
}
