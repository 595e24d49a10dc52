import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fake, jsonPaths, keep, keepIf, mask, scrub } from '../../strategies/index.js';
import { column, facts, row, transformFor } from '../support/rule-harness.js';

const notes = facts(column('notes', 'text', 'text'));

describe('scrub()', () => {
  it('replaces only the personal spans and keeps the text readable', async () => {
    const transform = await transformFor(scrub(), notes);
    const input =
      'Order #12 for Jane Smith, jane.smith@mail.example, +44 20 7946 0958, card 4111 1111 1111 1111, shipped to 221B Baker Street on 2024-01-15.';
    const output = transform.apply(input, row('1')) as string;
    expect(output.startsWith('Order #12 for ')).toBe(true);
    expect(output).toContain(', card ');
    expect(output).toContain(' on 2024-01-15.');
    for (const personal of ['Jane', 'jane.smith', '7946', '4111 1111', 'Baker']) {
      expect(output).not.toContain(personal);
    }
    // A common surname may come back inside another fake (faker's street patterns use last names,
    // and this secret makes "799 Smith Camp"), but never in the place of the name it replaced.
    expect(output).not.toMatch(/for \S+ Smith,/);
    expect(output).toMatch(/^Order #12 for \p{Lu}\p{L}+ \p{Lu}[\p{L}' -]+, \S+@example\.(com|net|org), \+/u);
  });

  it('fakes a name inside text exactly as the column rules fake that name in auth_user', async () => {
    const firstName = await transformFor(
      fake('person.firstName'),
      facts(column('first_name', 'character varying(150)', 'varchar')),
    );
    const lastName = await transformFor(
      fake('person.lastName'),
      facts(column('last_name', 'character varying(150)', 'varchar')),
    );
    const email = await transformFor(
      fake('internet.email'),
      facts(column('email', 'character varying(254)', 'varchar')),
    );
    const fakedName = `${firstName.apply('Jane', row('1'))} ${lastName.apply('Smith', row('1'))}`;
    const transform = await transformFor(scrub(), notes);
    expect(transform.apply('Order #12 for Jane Smith', row('9'))).toBe(`Order #12 for ${fakedName}`);
    expect(transform.apply('mail jane@mail.example', row('9'))).toBe(
      `mail ${email.apply('jane@mail.example', row('1'))}`,
    );
  });

  it('scrubs inside base64, zlib, URL-encoded and Django-signed payloads and writes each back the way it was', async () => {
    const transform = await transformFor(scrub(), notes);
    const payload = JSON.stringify({
      _auth_user_id: '17',
      email: 'jane.smith@mail.example',
      note: 'for Jane Smith',
    });
    const signed = `.${deflateSync(Buffer.from(payload)).toString('base64url')}:1r2Xab:Q0b8s-2nV1cA9zYt3kPq7dLw`;
    const output = transform.apply(signed, row('1')) as string;
    const [body, timestamp, signature] = output.slice(1).split(':');
    expect(output.startsWith('.')).toBe(true);
    // The signature no longer matches: Django reads the session as tampered with (signed out).
    expect([timestamp, signature]).toEqual(['1r2Xab', 'Q0b8s-2nV1cA9zYt3kPq7dLw']);
    const decoded = JSON.parse(inflateSync(Buffer.from(body as string, 'base64url')).toString('utf8'));
    expect(decoded._auth_user_id).toBe('17');
    expect(decoded.email).toMatch(/@example\.(com|net|org)$/);
    expect(decoded.note).toMatch(/^for \p{Lu}\p{L}+ \p{Lu}/u);
    expect(JSON.stringify(decoded)).not.toMatch(/jane|smith/i);

    const plain = Buffer.from('reply to jane.smith@mail.example please').toString('base64');
    const scrubbed = Buffer.from(
      transform.apply(`token ${plain}`, row('1'))?.slice(6) ?? '',
      'base64',
    ).toString();
    expect(scrubbed).toMatch(/^reply to \S+@example\.(com|net|org) please$/);

    const query = transform.apply('/orders?email=jane.smith%40mail.example&page=2', row('1')) as string;
    expect(query).toMatch(/^\/orders\?email=[^&]+%40example\.(com|net|org)&page=2$/);
    expect(decodeURIComponent(query)).not.toContain('jane.smith');
  });

  it('is deterministic, keyed by the secret', async () => {
    const input = 'Call Jane Smith on +44 20 7946 0958';
    const first = (await transformFor(scrub(), notes)).apply(input, row('1'));
    expect((await transformFor(scrub(), notes)).apply(input, row('2'))).toBe(first);
    expect((await transformFor(scrub(), notes, 'another-secret-0000000000')).apply(input, row('1'))).not.toBe(
      first,
    );
  });

  it('leaves what `allow` names, and text with nothing personal, as it is', async () => {
    const transform = await transformFor(scrub({ allow: ['person-name'] }), notes);
    const output = transform.apply('Jane Smith wrote from jane@mail.example', row('1')) as string;
    expect(output.startsWith('Jane Smith wrote from ')).toBe(true);
    expect(output).not.toContain('jane@mail.example');
    const plain = 'Shipped 3 boxes on 2024-01-15, ref item-42-d41d8cd98f00b204e9800998ecf8427e';
    expect(transform.apply(plain, row('1'))).toBe(plain);
  });

  it('scrubs every string inside json, keeping keys and numbers as they are', async () => {
    const transform = await transformFor(scrub(), facts(column('data', 'jsonb', 'jsonb')));
    const output = transform.apply(
      '{"shipping": {"name": "Jane Smith", "big": 12345678901234567890}, "tags": ["Call Jane Smith"]}',
      row('1'),
    ) as string;
    const parsed = JSON.parse(output) as { shipping: { name: string }; tags: string[] };
    expect(parsed.shipping.name).not.toBe('Jane Smith');
    expect(parsed.tags[0]).toBe(`Call ${parsed.shipping.name}`);
    expect(output).toContain('"big": 12345678901234567890');
  });
});

describe('allow', () => {
  it('names each unknown detector in one line, with a did-you-mean', () => {
    const text = facts(column('title', 'text', 'text'));
    // @ts-expect-error an unknown detector name, as a JavaScript config could write it
    expect(keep('public film credits', { allow: ['person_name'] }).validate?.(text)).toEqual([
      'keep(): unknown detector "person_name" in allow (did you mean "person-name"?); detectors are email, phone, payment-card, iban, national-id, ip-address, street-address, person-name, username, city, postcode',
    ]);
    // @ts-expect-error as above
    expect(mask({ allow: ['phones'] }).validate?.(text)?.[0]).toMatch(
      /^mask\(\): unknown detector "phones" in allow \(did you mean "phone"\?\)/,
    );
    // @ts-expect-error as above
    expect(scrub({ allow: 'email' }).validate?.(text)?.[0]).toMatch(
      /^scrub\(\): allow must be a list of detector names/,
    );
    expect(keep('credits', { allow: ['person-name'] }).validate?.(text)).toEqual([]);
  });

  it('is carried by every rule that publishes values as they are', () => {
    for (const rule of [
      keep('credits', { allow: ['person-name'] }),
      keepIf(() => true, fake('person.fullName'), { allow: ['person-name'] }),
      mask({ allow: ['person-name'] }),
      jsonPaths({ '$.email': fake('internet.email') }, { allow: ['person-name'] }),
      scrub({ allow: ['person-name'] }),
    ]) {
      expect(rule.allow).toEqual(['person-name']);
    }
    expect(mask().verify).toBe('output');
    expect(keep('x').verify ?? 'unchanged').toBe('unchanged');
  });
});
