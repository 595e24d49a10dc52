import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DevsnapStack } from './devsnap-stack.js';

const app = new App();
// The CDK CLI sets these from the caller's credentials; without them the stack stays
// environment-agnostic, which is all synth and the tests need.
new DevsnapStack(app, 'Devsnap', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
// Synth fails on any AwsSolutions finding that is not acknowledged with a reason in infra/.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
