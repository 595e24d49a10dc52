/** Options every built-in rule takes. */
export interface RuleOptions {
  /** NULL stays NULL (default true); false fills NULLs too, each row with its own value. */
  readonly preserveNulls?: boolean;
}

/** The seed input for a value: the value itself (so equal values agree), or the row for a NULL. */
export function seedInput(value: string | null, rowKey: () => string, attempt: number): string {
  return withAttempt(value ?? `\0row\0${rowKey()}`, attempt);
}

/** A seed input for a collision retry: `base` itself on the first attempt. */
export function withAttempt(base: string, attempt: number): string {
  return attempt === 0 ? base : `${base}\0${attempt}`;
}

/** `{ a: 1 }` → ` a=1`, for describe(): options are part of a rule's identity. */
export function describeOptions(options: Readonly<Record<string, unknown>>): string {
  const parts = Object.entries(options)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return parts.length ? `, ${parts.join(', ')}` : '';
}

/** A short keyed token (base36) for making identifiers unique, from a digest. */
export function tokenFrom(digest: Uint8Array, length = 8): string {
  let token = '';
  for (let i = 0; token.length < length; i++) token += ((digest[i % digest.length] ?? 0) % 36).toString(36);
  return token;
}

/** Cuts text to `max` characters (code points), keeping `suffix` whole when it fits. */
export function fitText(base: string, suffix: string, max: number | null): string {
  const text = base + suffix;
  if (max === null || text.length <= max) return text;
  const suffixChars = [...suffix];
  if (suffixChars.length >= max) return [...text].slice(0, max).join('');
  return [...base].slice(0, max - suffixChars.length).join('') + suffix;
}
