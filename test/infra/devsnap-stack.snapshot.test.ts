import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { expect, it } from 'vitest';
import { DevsnapStack } from '../../infra/devsnap-stack.js';
import { cdkContext } from '../support/cdk-template.js';
import { pipelineContext } from '../support/pipeline-context.js';

// Catches any template change the fine-grained tests do not name; review the diff, then run
// `npx vitest run test/infra -u` to accept it.
it('synthesises the same DevsnapStack template as the committed snapshot', () => {
  const app = new App({
    context: {
      ...cdkContext,
      ...pipelineContext,
      // The config path is absolute on each machine; code assets are compared by the bundling test.
      'devsnap:configPath': 'devsnap.config.ts',
      'aws:cdk:bundling-stacks': [],
    },
  });
  const template = Template.fromStack(new DevsnapStack(app, 'Devsnap')).toJSON();
  // Code asset names are hashes of the sources, so any code change would churn the snapshot.
  const stable = JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}\.zip/g, '<code asset>.zip'));
  expect(stable).toMatchSnapshot();
});
