import { UsageError } from '../errors.js';
import type { AnonymiseConfig } from './anonymise-config.js';
import { relaxationsOf } from './relaxations.js';

/**
 * What the nightly pipeline refuses in a config, before it reads anything: a secret written in the
 * config (it ships in every function bundle and sits in the repository), and relaxations that let
 * personal data through (`mode: 'warn'`, `verify: false`) unless the construct was deployed with
 * allowUnverifiedPersonalData.
 */
export function checkPipelineConfig(config: AnonymiseConfig | undefined, allowUnverified: boolean): void {
  const problems: string[] = [];
  if (typeof config?.secret === 'string') {
    problems.push(
      "anonymise.secret is written in the config: the pipeline reads it from Secrets Manager only ({ secretsManager: 'arn:…' }, deployed with -c devsnap:anonymiseSecretArn=…)",
    );
  }
  const relaxations = relaxationsOf(config).filter((relaxation) => relaxation.setting !== 'sample: false');
  if (relaxations.length > 0 && !allowUnverified) {
    problems.push(
      `${relaxations.map((relaxation) => `anonymise.${relaxation.setting}`).join(' and ')} would publish unverified personal data: the pipeline refuses it unless deployed with allowUnverifiedPersonalData (-c devsnap:allowUnverifiedPersonalData=true)`,
    );
  }
  if (problems.length > 0) {
    throw new UsageError(`The nightly pipeline refuses this config: ${problems.join('; ')}.`, {
      hint: 'Fix devsnap.config.ts and run `npx cdk deploy` again.',
    });
  }
}
