import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { expect, it } from 'vitest';
import { DevsnapStack } from '../../infra/devsnap-stack.js';

// Catches any template change the fine-grained tests do not name; review the diff, then run
// `npx vitest run test/infra -u` to accept it.
it('synthesises the same DevsnapStack template as the committed snapshot', () => {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
  const stack = new DevsnapStack(new App({ context: cdkJson.context }), 'Devsnap');
  expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
});
