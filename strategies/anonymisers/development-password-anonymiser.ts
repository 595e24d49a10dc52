import type { Anonymiser } from '../../core/anonymise/anonymiser.js';

/** The password every account has after importing a snapshot whose passwords use developmentPassword(). */
export const DEVELOPMENT_PASSWORD = 'devsnap';

/**
 * Django's hash of DEVELOPMENT_PASSWORD (`make_password('devsnap')`, PBKDF2-SHA256 with Django
 * 3.2's 260,000 iterations and a fixed salt). Newer Django versions accept it and re-hash it with
 * their own iteration count at the first sign-in.
 */
export const DJANGO_DEVELOPMENT_PASSWORD_HASH =
  'pbkdf2_sha256$260000$devsnapdevelopmentsalt$tVV78RTJRq1H7jbO25rcqA7Xy7vSUghrQO64qW2YAH0=';

/** bcrypt (cost 10, fixed salt) of DEVELOPMENT_PASSWORD, for Devise and has_secure_password. */
export const BCRYPT_DEVELOPMENT_PASSWORD_HASH =
  '$2a$10$devsnapdevelopmentsaluO1AcrGwRZyX2SfaOmXZf7e5MQOAhXdC';

export type PasswordScheme = 'django' | 'bcrypt';

/**
 * Replaces every usable password hash with the hash of the documented development password
 * (`devsnap`), so developers can sign in as any account after an import, and no production hash
 * leaves. Accounts without a usable password stay without one: Django's unusable passwords
 * (`!…`) become `!`, empty strings stay empty (Devise accounts that sign in elsewhere).
 */
export function developmentPassword(scheme: PasswordScheme): Anonymiser {
  const hash = scheme === 'django' ? DJANGO_DEVELOPMENT_PASSWORD_HASH : BCRYPT_DEVELOPMENT_PASSWORD_HASH;
  return {
    kind: 'developmentPassword',
    describe: () => `developmentPassword(${scheme})`,
    preserveNulls: true,
    canVary: false,
    validate(column) {
      const problems: string[] = [];
      if (scheme !== 'django' && scheme !== 'bcrypt')
        problems.push(`developmentPassword() takes 'django' or 'bcrypt', not ${JSON.stringify(scheme)}`);
      if (column.family !== 'text')
        problems.push(
          `developmentPassword() works on text columns, but ${column.qualified} is ${column.column.dataType}`,
        );
      if (column.maxLength !== null && column.maxLength < hash.length)
        problems.push(
          `developmentPassword(): ${column.qualified} holds ${column.maxLength} characters, the hash needs ${hash.length}`,
        );
      return problems;
    },
    bind: () => (value) => {
      if (value === null || value === '') return value;
      if (scheme === 'django' && value.startsWith('!')) return '!';
      return hash;
    },
  };
}
