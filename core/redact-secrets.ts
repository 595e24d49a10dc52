/**
 * Removes credentials from text before it is printed, logged or stored (CLI output and --json,
 * Lambda logs, failure.json). Every form a PostgreSQL connection carries a secret in:
 * - a URL's userinfo (`postgres://user:secret@host`),
 * - connection parameters in a URL query or a keyword/value string (`password=`, `sslpassword=`,
 *   `sslkey=`, quoted or not),
 * - and values known to be secret wherever they appear, plain, percent-encoded or JSON-escaped:
 *   PGPASSWORD and PGSSLPASSWORD, and the passwords inside URLs given in the environment or on the
 *   command line (a driver error may quote a password without its key).
 */
export const REDACTED = '***';

/** Connection parameters whose value is a secret (sslkey names the private key). */
const SECRET_PARAMETERS = ['password', 'sslpassword', 'sslkey'];
/** Environment variables whose whole value is a secret. */
const SECRET_VARIABLES = ['PGPASSWORD', 'PGSSLPASSWORD', 'PGSSLKEY'];
/** Shorter "secrets" would blank out ordinary words; the patterns above still catch them in place. */
const MIN_KNOWN_LENGTH = 4;

const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:'"]*):([^\s/?#@'"]*)@/gi;
const PARAMETER = new RegExp(
  String.raw`\b(${SECRET_PARAMETERS.join('|')})(\s*=\s*)('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^\s&'",;)]*)`,
  'gi',
);

export function redactSecrets(text: string, known: readonly string[] = []): string {
  let out = text.replace(USERINFO, `$1:${REDACTED}@`).replace(PARAMETER, `$1$2${REDACTED}`);
  for (const secret of known) {
    if (secret.length < MIN_KNOWN_LENGTH) continue;
    for (const form of new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])) {
      // Not a URL's scheme: a password "postgres" leaves postgres:// readable.
      out = out.replace(
        new RegExp(`${form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!:\\/\\/)`, 'g'),
        REDACTED,
      );
    }
  }
  return out;
}

/**
 * Secret values found in the environment and in command-line arguments: PG* secret variables, and
 * passwords in any URL or keyword/value connection string among them.
 */
export function knownSecrets(env: NodeJS.ProcessEnv, args: readonly string[] = []): string[] {
  const secrets = new Set<string>();
  for (const name of SECRET_VARIABLES) {
    const value = env[name];
    if (value) secrets.add(value);
  }
  for (const value of [...Object.values(env), ...args]) {
    if (value) for (const secret of secretsIn(value)) secrets.add(secret);
  }
  return [...secrets];
}

function secretsIn(value: string): string[] {
  const found: string[] = [];
  for (const match of value.matchAll(USERINFO)) {
    const password = safeDecode(match[2] ?? '');
    // postgres:postgres@…/postgres: a password that is also the URL's user or database name is printed
    // as those anyway; hiding the word everywhere would only blank them out (it stays hidden in place).
    const names = value
      .slice(match.index)
      .match(/^[a-z][a-z0-9+.-]*:\/\/([^:@/]*):[^@]*@[^/?#]*\/?([^?#\s]*)/i);
    if (password && password !== safeDecode(names?.[1] ?? '') && password !== safeDecode(names?.[2] ?? '')) {
      found.push(password);
    }
  }
  for (const match of value.matchAll(PARAMETER)) {
    const raw = (match[3] ?? '').replace(/^(['"])(.*)\1$/s, '$2');
    if (raw) found.push(safeDecode(raw));
  }
  return found;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A stream that redacts every chunk written to it before passing it on. */
export function redactingStream<S extends NodeJS.WritableStream>(stream: S, known: readonly string[]): S {
  return new Proxy(stream, {
    get(target, property, receiver) {
      if (property !== 'write') {
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (chunk: unknown, ...rest: unknown[]) =>
        (target.write as (...args: unknown[]) => boolean)(
          typeof chunk === 'string' || Buffer.isBuffer(chunk)
            ? redactSecrets(chunk.toString(), known)
            : chunk,
          ...rest,
        );
    },
  });
}
