// The anonymised export the bench measures against the plain one: five faker rules (one of them
// on a unique column) and the demo's other personal columns kept, in strict mode.
import { defineConfig } from 'devsnap';
import { fake, keep } from 'devsnap/strategies';

const benchOnly = keep('the bench measures five faker rules');

export default defineConfig({
  anonymise: {
    mode: 'strict',
    // A literal secret is fine for a benchmark of synthetic data; never for real data (the nightly
    // pipeline refuses one). Made with `openssl rand -base64 48`.
    secret: 'ZqK3m9Xv0Lr8Tn2Wd5Pb7Yc1Hf4Jg6Us9Ae3Ri0Ko2Mt5Nw8Xe1Vj4Sl7Dq0Bh3Fy',
    rules: {
      'public.users.email': fake('internet.email'),
      'public.users.first_name': fake('person.firstName'),
      'public.users.last_name': fake('person.lastName'),
      'public.users.phone': fake('phone.number', { args: { style: 'international' } }),
      'public.addresses.line1': fake('location.streetAddress'),
      'public.addresses.line2': benchOnly,
      'public.addresses.postal_code': benchOnly,
      'public.users.date_of_birth': benchOnly,
    },
  },
});
