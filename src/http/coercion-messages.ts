/** Input coercion errors lose the value the client sent, so no password is ever echoed back. */

const COERCION_HEAD = /^Variable "\$[_A-Za-z][_0-9A-Za-z]*" got invalid value /;

/**
 * The message of a variable coercion error without the values the client sent. graphql-js
 * writes `Variable "$input" got invalid value <value> at "input.x"; <reason>`, where the value is
 * printed as GraphQL/JSON (strings quoted and escaped) and the reason may quote it again after a
 * colon (`String cannot represent a non string value: <value>`).
 */
export function withoutInputValues(message: string): string {
  const head = COERCION_HEAD.exec(message);
  if (!head) return message;
  // Find where the printed value ends: the first ` at "` or `; ` outside a string literal.
  let i = head[0].length;
  let inString = false;
  for (; i < message.length; i++) {
    const c = message[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (message.startsWith(' at "', i) || message.startsWith('; ', i)) break;
  }
  const rest = message.slice(i);
  const at = /^ at "[^"]*"/.exec(rest)?.[0] ?? '';
  const reason = rest.slice(at.length).replace(/^; /, '');
  const colon = reason.indexOf(': ');
  const cleanReason = colon === -1 ? reason : `${reason.slice(0, colon)}.`;
  return `${head[0].trimEnd()}${at}${cleanReason ? `; ${cleanReason}` : ''}`;
}
