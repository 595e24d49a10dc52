import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { DevsnapStack } from '../../infra/devsnap-stack.js';
import { ExportPipeline } from '../../infra/export-pipeline.js';
import { SnapshotBucket } from '../../infra/snapshot-bucket.js';
import { cdkContext, logicalIdOf } from '../support/cdk-template.js';
import { PIPELINE_ARNS, pipelineContext } from '../support/pipeline-context.js';

function synth(context: Record<string, unknown> = {}) {
  const app = new App({
    context: { ...cdkContext, ...pipelineContext, 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = new DevsnapStack(app, 'Devsnap');
  return { stack, template: Template.fromStack(stack) };
}

/** Every IAM statement (inline and managed policies) that names `arn`, with the role or policy it is in. */
function statementsOn(template: Template, arn: unknown) {
  const found: { owner: unknown; action: unknown }[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const resource of Object.values(template.findResources(type))) {
      for (const statement of resource.Properties.PolicyDocument.Statement) {
        if (JSON.stringify(statement.Resource) === JSON.stringify(arn)) {
          found.push({ owner: resource.Properties.Roles ?? 'managed', action: statement.Action });
        }
      }
    }
  }
  return found;
}

describe('snapshot signing key', () => {
  it('is an asymmetric P-256 signing key, retained on stack deletion, output for developers', () => {
    const { stack, template } = synth();
    const key = stack.pipeline?.signingKey as IConstruct;
    template.hasResource('AWS::KMS::Key', {
      Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasOutput('SnapshotSigningKeyArn', { Value: { 'Fn::GetAtt': [logicalIdOf(key), 'Arn'] } });
  });

  it('is named to finalize alone, and only finalize and developers get a grant on it: Sign and GetPublicKey, GetPublicKey', () => {
    const { stack, template } = synth();
    const pipeline = stack.pipeline;
    if (!pipeline) throw new Error('no pipeline');
    const keyArn = { 'Fn::GetAtt': [logicalIdOf(pipeline.signingKey), 'Arn'] };
    const functions = template.findResources('AWS::Lambda::Function');
    for (const [name, fn] of Object.entries(pipeline.functions)) {
      const variables = functions[logicalIdOf(fn)]?.Properties.Environment.Variables;
      expect(variables.DEVSNAP_SIGNING_KEY_ID, name).toEqual(name === 'finalize' ? keyArn : undefined);
    }
    const finalizeRole = { Ref: logicalIdOf(pipeline.functions.finalize.role as IConstruct) };
    expect(statementsOn(template, keyArn)).toEqual([
      { owner: [finalizeRole], action: ['kms:GetPublicKey', 'kms:Sign'] },
      { owner: 'managed', action: 'kms:GetPublicKey' },
    ]);
  });

  it('signs with a caller-supplied key instead of creating one', () => {
    const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Custom');
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/0b5c7e2a-1f0e-4d5a-9f51-2c4b8d7e6a10';
    const pipeline = new ExportPipeline(stack, 'Export', {
      snapshots: new SnapshotBucket(stack, 'Snapshots'),
      clusterArn: PIPELINE_ARNS.CLUSTER_ARN,
      databaseSecretArn: PIPELINE_ARNS.DB_SECRET_ARN,
      database: 'app',
      configPath: String(pipelineContext['devsnap:configPath']),
      signingKey: kms.Key.fromKeyArn(stack, 'TeamSigningKey', keyArn),
    });
    const template = Template.fromStack(stack);
    template.resourcePropertiesCountIs('AWS::KMS::Key', { KeyUsage: 'SIGN_VERIFY' }, 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DEVSNAP_SIGNING_KEY_ID: keyArn }) },
    });
    const finalizeRole = { Ref: logicalIdOf(pipeline.functions.finalize.role as IConstruct) };
    expect(statementsOn(template, keyArn)).toEqual([
      { owner: [finalizeRole], action: ['kms:GetPublicKey', 'kms:Sign'] },
    ]);
  });
});
