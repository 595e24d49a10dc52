import { pbkdf2Sync } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import {
  BCRYPT_DEVELOPMENT_PASSWORD_HASH,
  DEVELOPMENT_PASSWORD,
  DJANGO_DEVELOPMENT_PASSWORD_HASH,
  developmentPassword,
} from '../../strategies/index.js';
import { column, facts, row, transformFor } from '../support/rule-harness.js';

describe('developmentPassword()', () => {
  it('the Django constant is PBKDF2-SHA256 of the documented password, in Django’s format', () => {
    const [algorithm, iterations, salt, digest] = DJANGO_DEVELOPMENT_PASSWORD_HASH.split('$');
    expect([algorithm, iterations, DEVELOPMENT_PASSWORD]).toEqual(['pbkdf2_sha256', '260000', 'devsnap']);
    expect(pbkdf2Sync(DEVELOPMENT_PASSWORD, salt as string, 260_000, 32, 'sha256').toString('base64')).toBe(
      digest,
    );
  });

  it('the bcrypt constant verifies the documented password and no other', () => {
    expect(bcrypt.compareSync('devsnap', BCRYPT_DEVELOPMENT_PASSWORD_HASH)).toBe(true);
    expect(bcrypt.compareSync('devsnap ', BCRYPT_DEVELOPMENT_PASSWORD_HASH)).toBe(false);
  });

  it('replaces usable hashes, keeps unusable passwords unusable and empty ones empty', async () => {
    const target = facts(column('password', 'character varying(128)', 'varchar'));
    const django = await transformFor(developmentPassword('django'), target);
    expect(django.apply('pbkdf2_sha256$260000$abc$def=', row('1'))).toBe(DJANGO_DEVELOPMENT_PASSWORD_HASH);
    expect(django.apply('argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA', row('2'))).toBe(
      DJANGO_DEVELOPMENT_PASSWORD_HASH,
    );
    expect(django.apply('!Xk2f9aQ0rT7mZbLcW1yN3pD5sV8uE4hJ6gR0tY2i', row('3'))).toBe('!');
    expect(django.apply(null, row('4'))).toBeNull();
    const rails = await transformFor(developmentPassword('bcrypt'), target);
    expect(rails.apply('$2a$12$K8GpW6Kx1o3Zq9aXbY7cUe1oVh2m3n4b5v6c7x8z9a0s1d2f3g4h5', row('1'))).toBe(
      BCRYPT_DEVELOPMENT_PASSWORD_HASH,
    );
    expect(rails.apply('', row('2'))).toBe('');
  });

  it('refuses a column too short for the hash, or not text', () => {
    expect(
      developmentPassword('django').validate?.(facts(column('password', 'character varying(40)', 'varchar'))),
    ).toEqual([
      `developmentPassword(): public.t.password holds 40 characters, the hash needs ${DJANGO_DEVELOPMENT_PASSWORD_HASH.length}`,
    ]);
    expect(developmentPassword('bcrypt').validate?.(facts(column('password', 'integer', 'int4')))).toEqual([
      'developmentPassword() works on text columns, but public.t.password is integer',
    ]);
  });
});
