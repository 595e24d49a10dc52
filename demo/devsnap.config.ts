// The demo shop's config: what `devsnap init` wrote for it, after the edits a team would make
// (marked EDITED). `npm run demo` exports with it in strict mode: a personal column without a
// rule would stop the export.
import { defineConfig } from 'devsnap';
import { dateShift, fake, keepIf, randomForeignKey } from 'devsnap/strategies';

export default defineConfig({
  anonymise: {
    mode: 'strict',
    // The demo sets DEVSNAP_SECRET for itself when it is not set.
    secret: { env: 'DEVSNAP_SECRET' },
    rules: {
      // public.addresses.line1: name looks like a street address
      'public.addresses.line1': fake('location.streetAddress'),
      // public.addresses.line2: name looks like an address line
      'public.addresses.line2': fake('location.secondaryAddress'),
      // public.addresses.postal_code: name looks like a postcode
      'public.addresses.postal_code': fake('location.zipCode'),
      // EDITED: staff keep their real addresses so they can sign in to the dev system; the export
      // checks every kept value, so the team says that these emails may be published.
      // public.users.email: name looks like an email address (unique: outputs stay distinct)
      'public.users.email': keepIf((row) => row.is_staff === 't', fake('internet.email'), {
        name: 'staff accounts',
        allow: ['email'],
      }),
      // public.users.first_name: name looks like a first name
      'public.users.first_name': fake('person.firstName'),
      // public.users.last_name: name looks like a last name
      'public.users.last_name': fake('person.lastName'),
      // public.users.phone: name looks like a phone number
      'public.users.phone': fake('phone.number', { args: { style: 'international' } }),
      // public.users.date_of_birth: name looks like a birth date
      'public.users.date_of_birth': dateShift({ days: 180 }),
      // EDITED: comments keep their threads but no longer say who wrote them.
      'public.comments.user_id': randomForeignKey(),
    },
  },
});
