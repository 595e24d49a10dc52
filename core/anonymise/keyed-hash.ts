import { createHmac } from 'node:crypto';
import type { Anonymiser, RuleKey } from './anonymiser.js';
import { HmacSha256 } from './hmac-sha256.js';
import { SeededRandom } from './seeded-random.js';
import { SipHash24 } from './sip-hash.js';

const DOMAIN = 'devsnap/anonymise/v1';
/** What the picks() key is derived from (HMAC under the rule's key), apart from every value's input. */
const PICKS_LABEL = '\0devsnap/anonymise/picks/v1';

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
  // The same digests as createHmac('sha256', key), computed without a native object per value.
  const hmac = new HmacSha256(key);
  const seed = new Uint8Array(32);
  const picking = new SeededRandom();
  const pickKey = hmac.digest(PICKS_LABEL);
  const sip = new SipHash24(pickKey);
  const c = pickKey.readInt32LE(16);
  const d = pickKey.readInt32LE(20);
  return {
    digest: (input) => hmac.digest(input),
    random(input) {
      // One generator per key, reseeded per call: callers use it before asking for the next.
      hmac.digestInto(input, seed);
      random.reseed(seed);
      return random;
    },
    picks(input) {
      sip.hash(input);
      picking.reseedWords(sip.low, sip.high, c, d);
      return picking;
    },
  };
}
