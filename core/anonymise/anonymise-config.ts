/**
 * The `anonymise` section of a devsnap config. Placeholder until the anonymisation engine lands:
 * validated as an object only.
 */
export interface AnonymiseConfig {
  readonly mode?: 'strict' | 'warn';
}

/** Problems with the anonymise section for this schema, listed with every other config problem. */
export function validateAnonymiseConfig(_config: AnonymiseConfig | undefined): string[] {
  return [];
}
