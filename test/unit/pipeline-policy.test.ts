import { describe, expect, it } from 'vitest';
import { checkPipelineConfig } from '../../core/anonymise/pipeline-policy.js';
import { UsageError } from '../../core/errors.js';
import { handlerEnvironment } from '../../functions/handler-environment.js';

const refusal = (run: () => void): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  return '';
};

describe('what the nightly pipeline refuses in a config', () => {
  it('refuses a secret written in the config, whatever else is allowed', () => {
    const message = refusal(() =>
      checkPipelineConfig({ secret: 'q3Vn7xK0pLr2Wd9sEaTy5mBcHf8uJg1N4oZiRvXe' }, true),
    );
    expect(message).toBe(
      "The nightly pipeline refuses this config: anonymise.secret is written in the config: the pipeline reads it from Secrets Manager only ({ secretsManager: 'arn:…' }, deployed with -c devsnap:anonymiseSecretArn=…).",
    );
    expect(message).not.toContain('q3Vn7');
    expect(message.split('\n')).toHaveLength(1);
  });

  it('refuses warn mode and verify: false unless the construct allows unverified personal data', () => {
    expect(refusal(() => checkPipelineConfig({ mode: 'warn', verify: false }, false))).toBe(
      'The nightly pipeline refuses this config: anonymise.mode: warn and anonymise.verify: false would publish unverified personal data: the pipeline refuses it unless deployed with allowUnverifiedPersonalData (-c devsnap:allowUnverifiedPersonalData=true).',
    );
    expect(
      refusal(() => checkPipelineConfig({ mode: 'warn', secret: { secretsManager: 'arn:x' } }, true)),
    ).toBe('');
    // Classifying by name only is recorded, not refused: every written value is still verified.
    expect(refusal(() => checkPipelineConfig({ sample: false }, false))).toBe('');
    expect(refusal(() => checkPipelineConfig(undefined, false))).toBe('');
  });

  it('reads the allowance the construct sets on the functions', () => {
    const base = {
      DEVSNAP_BUCKET: 'b',
      DEVSNAP_SOURCE: 'pg',
      DEVSNAP_DATABASE_URL: 'postgres://x',
      DEVSNAP_CONFIG_PATH: '/c',
    };
    expect(handlerEnvironment(base).allowUnverifiedPersonalData).toBe(false);
    expect(
      handlerEnvironment({ ...base, DEVSNAP_ALLOW_UNVERIFIED_PERSONAL_DATA: 'true' })
        .allowUnverifiedPersonalData,
    ).toBe(true);
  });
});
