/**
 * Reads a `WWW-Authenticate` value (RFC 9110 §11.6.1) into its challenges: a scheme and its
 * auth-params. Several challenges may share one header (`Bearer ..., DPoP algs="ES256"`).
 */
export interface Challenge {
  /** Lower-cased, e.g. `bearer`. */
  readonly scheme: string;
  /** Parameter names lower-cased, values unquoted. */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

export function parseChallenges(header: string): Challenge[] {
  const challenges: Array<{ scheme: string; params: Record<string, string> }> = [];
  let rest = header.trim();
  while (rest) {
    rest = rest.replace(/^[\s,]+/, '');
    const name = TOKEN.exec(rest)?.[0];
    if (!name) break;
    rest = rest.slice(name.length);
    const afterSpaces = rest.replace(/^\s*/, '');
    if (afterSpaces.startsWith('=') && challenges.length > 0) {
      // An auth-param of the current challenge.
      rest = afterSpaces.slice(1).replace(/^\s*/, '');
      let value: string;
      if (rest.startsWith('"')) {
        const match = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
        value = (match?.[1] ?? '').replace(/\\(.)/g, '$1');
        rest = rest.slice(match ? match[0].length : rest.length);
      } else {
        value = TOKEN.exec(rest)?.[0] ?? '';
        rest = rest.slice(value.length);
      }
      const current = challenges.at(-1);
      if (current) current.params[name.toLowerCase()] = value;
    } else {
      challenges.push({ scheme: name.toLowerCase(), params: {} });
      rest = afterSpaces;
    }
  }
  return challenges;
}
