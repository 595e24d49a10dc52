// The config `devsnap init --database-url postgres://…/pagila` wrote for the Pagila sample
// database, after the edits a team would make (marked EDITED). Export with:
//   DEVSNAP_SECRET=$(openssl rand -base64 48) devsnap export --config examples/pagila.devsnap.config.ts …
import { defineConfig } from 'devsnap';
import { allRows, constant, fake, keep } from 'devsnap/strategies';

export default defineConfig({
  // Every table in full; pick subset strategies for large tables.
  tables: {
    'public.actor': [allRows()],
    'public.address': [allRows()],
    'public.category': [allRows()],
    'public.city': [allRows()],
    'public.country': [allRows()],
    'public.customer': [allRows()],
    'public.film': [allRows()],
    'public.film_actor': [allRows()],
    'public.film_category': [allRows()],
    'public.inventory': [allRows()],
    'public.language': [allRows()],
    'public.payment': [allRows()],
    'public.rental': [allRows()],
    'public.staff': [allRows()],
    'public.store': [allRows()],
  },
  anonymise: {
    mode: 'strict',
    secret: { env: 'DEVSNAP_SECRET' },
    rules: {
      // EDITED: actors are credited on films, which are public; they are not customers.
      // public.actor.first_name: name looks like a first name
      'public.actor.first_name': keep('actors are public film credits, not customers'),
      // public.actor.last_name: name looks like a last name
      'public.actor.last_name': keep('actors are public film credits, not customers'),
      // EDITED: city names are public; one of them, Richmond Hill, reads like a person's name.
      // public.city.city: 1 of 600 sampled values look like a person's name
      'public.city.city': keep('city names are public reference data', { allow: ['person-name'] }),
      // public.address.address: name looks like a street address
      'public.address.address': fake('location.streetAddress'),
      // public.address.address2: name looks like an address line
      'public.address.address2': fake('location.secondaryAddress'),
      // public.address.postal_code: name looks like a postcode
      'public.address.postal_code': fake('location.zipCode'),
      // public.address.phone: name looks like a phone number
      'public.address.phone': fake('phone.number', { args: { style: 'international' } }),
      // EDITED: by column name, for customers and staff alike (one rule instead of four).
      first_name: fake('person.firstName'),
      last_name: fake('person.lastName'),
      email: fake('internet.email'),
      // public.staff.username: name looks like a username
      'public.staff.username': fake('internet.username'),
      // EDITED: one known hash (sha1 of "devsnap") so developers can sign in as any staff member.
      // public.staff.password: name looks like a password or password hash
      'public.staff.password': constant('06055b5702efb125e9072f7f88bf176b32f4e271'),
    },
  },
});
