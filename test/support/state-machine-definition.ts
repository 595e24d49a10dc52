import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { DevsnapStack } from '../../infra/devsnap-stack.js';
import { cdkContext } from './cdk-template.js';

/** The state machine definition exactly as `cdk synth` writes it, with Lambda ARNs filled in. */
export function synthesisedDefinition(): StateMachineDefinition {
  const app = new App({
    context: {
      ...cdkContext,
      // Bundling is tested in test/infra; here only the definition matters.
      'aws:cdk:bundling-stacks': [],
      'devsnap:clusterArn': 'arn:aws:rds:us-east-1:123456789012:cluster:test',
      'devsnap:databaseSecretArn': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:test-AbCdEf',
      'devsnap:database': 'test',
      'devsnap:maxConcurrency': 2,
    },
  });
  const template = Template.fromStack(new DevsnapStack(app, 'Devsnap')).toJSON();
  const [machine] = Object.values(
    template.Resources as Record<
      string,
      { Type: string; Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } } }
    >,
  ).filter((resource) => resource.Type === 'AWS::StepFunctions::StateMachine');
  const [, parts] = machine?.Properties.DefinitionString['Fn::Join'] ?? ['', []];
  const text = parts
    .map((part) =>
      typeof part === 'string' ? part : 'arn:aws:lambda:us-east-1:123456789012:function:devsnap',
    )
    .join('');
  return JSON.parse(text) as StateMachineDefinition;
}
