import { createHmac } from 'node:crypto';
import type { Anonymiser, RuleKey } from './anonymiser.js';
import { SeededRandom } from './seeded-random.js';

const DOMAIN = 'devsnap/anonymise/v1';

/**
 * The determinism of anonymisation: every output is a function of (secret, rule, input). Each
 * rule gets its own key, HMAC(secret, rule description), so equal rules agree across tables and
 * runs while different rules (or a different secret) give unrelated outputs.
 */
export class KeyedHash {
  private readonly keys = new Map<string, RuleKey>();

  constructor(private readonly secret: string) {}

  forRule(rule: Anonymiser): RuleKey {
    const label = rule.describe();
    let key = this.keys.get(label);
    if (!key) {
      key = ruleKey(createHmac('sha256', this.secret).update(`${DOMAIN}\0${label}`).digest());
      this.keys.set(label, key);
    }
    return key;
  }
}

function ruleKey(key: Buffer): RuleKey {
  const random = new SeededRandom();
  return {
    digest: (input) => createHmac('sha256', key).update(input).digest(),
    random(input) {
      // One generator per key, reseeded per call: callers use it before asking for the next.
      random.reseed(createHmac('sha256', key).update(input).digest());
      return random;
    },
  };
}
