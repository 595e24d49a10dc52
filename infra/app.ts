import { App } from 'aws-cdk-lib';
import { DevsnapStack } from './devsnap-stack.js';

const app = new App();
// The CDK CLI sets these from the caller's credentials; without them the stack stays
// environment-agnostic, which is all synth and the tests need.
new DevsnapStack(app, 'Devsnap', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
