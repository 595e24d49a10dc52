import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { DevsnapStack } from '../../infra/devsnap-stack.js';
import { cdkContext, logicalIdOf, snapshotReadStatements } from '../support/cdk-template.js';
import { PIPELINE_ARNS, pipelineContext } from '../support/pipeline-context.js';

const { CLUSTER_ARN, DB_SECRET_ARN, ANONYMISE_SECRET_ARN } = PIPELINE_ARNS;

function synth(context: Record<string, unknown> = {}, options: { bundle?: boolean; outdir?: string } = {}) {
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: {
      ...cdkContext,
      ...pipelineContext,
      // Bundling is slow; only the bundling test does it.
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...context,
    },
  });
  const stack = new DevsnapStack(app, 'Devsnap');
  return { app, stack, template: Template.fromStack(stack) };
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

function statementsOf(template: Template, type: string): { id: string; statement: Statement }[] {
  return Object.entries(template.findResources(type)).flatMap(([id, resource]) =>
    (resource.Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({ id, statement })),
  );
}

describe('ExportPipeline in DevsnapStack', () => {
  it('runs three arm64 nodejs22.x functions with the environment the handlers read', () => {
    const { stack, template } = synth();
    template.resourceCountIs('AWS::Lambda::Function', 3);
    const functions = template.findResources('AWS::Lambda::Function');
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Environment: {
          Variables: {
            DEVSNAP_BUCKET: { Ref: logicalIdOf(stack.snapshots.bucket) },
            DEVSNAP_CLUSTER_ARN: CLUSTER_ARN,
            DEVSNAP_DATABASE_SECRET_ARN: DB_SECRET_ARN,
            DEVSNAP_DATABASE: 'app',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
        },
      });
      // The config is compiled into the code, not read from a path at run time.
      expect(fn.Properties.Environment.Variables.DEVSNAP_CONFIG_PATH).toBeUndefined();
    }
  });

  it('lets a config relax anonymisation only when deployed with allowUnverifiedPersonalData', () => {
    const variables = (template: Template) =>
      Object.values(template.findResources('AWS::Lambda::Function')).map(
        (fn) => fn.Properties.Environment.Variables as Record<string, unknown>,
      );
    for (const env of variables(synth().template)) {
      expect(env.DEVSNAP_ALLOW_UNVERIFIED_PERSONAL_DATA).toBeUndefined();
    }
    const allowed = synth({ 'devsnap:allowUnverifiedPersonalData': 'true' }).template;
    for (const env of variables(allowed)) expect(env.DEVSNAP_ALLOW_UNVERIFIED_PERSONAL_DATA).toBe('true');
  });

  it('gives each step only what it does: no deletes or database for finalize, writes by the layout', () => {
    const { stack, template } = synth();
    const pipeline = stack.pipeline;
    if (!pipeline) throw new Error('no pipeline');
    const bucketArn = { 'Fn::GetAtt': [logicalIdOf(stack.snapshots.bucket), 'Arn'] };
    const objects = (...keys: string[]) => {
      const arns = keys.map((key) => ({ 'Fn::Join': ['', [bucketArn, `/${key}`]] }));
      return arns.length === 1 ? arns[0] : arns;
    };
    const keyArn = { 'Fn::GetAtt': [logicalIdOf(stack.snapshots.key), 'Arn'] };
    const list = {
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: bucketArn,
      Condition: { StringLike: { 's3:prefix': ['snapshots/', 'snapshots/*', 'latest.json'] } },
    };
    const kms = { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn };
    const database = [
      {
        Effect: 'Allow',
        Action: ['rds-data:BeginTransaction', 'rds-data:ExecuteStatement', 'rds-data:RollbackTransaction'],
        Resource: CLUSTER_ARN,
      },
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: [ANONYMISE_SECRET_ARN, DB_SECRET_ARN],
      },
    ];
    const write = ['s3:AbortMultipartUpload', 's3:PutObject'];
    const expected: Record<string, unknown[]> = {
      plan: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objects('snapshots/*/.work/*') },
        {
          Effect: 'Allow',
          Action: write,
          Resource: objects('snapshots/*/.work/*', 'snapshots/*/failure.json', 'snapshots/*/schema/*'),
        },
        list,
        kms,
        ...database,
      ],
      export: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objects('snapshots/*/.work/*') },
        { Effect: 'Allow', Action: write, Resource: objects('snapshots/*/.work/*', 'snapshots/*/data/*') },
        list,
        kms,
        ...database,
      ],
      finalize: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objects('latest.json', 'snapshots/*') },
        {
          Effect: 'Allow',
          Action: write,
          Resource: objects(
            'latest.json',
            'snapshots/*/failure.json',
            'snapshots/*/manifest.json',
            'snapshots/*/seal.json',
          ),
        },
        { Effect: 'Allow', Action: 's3:DeleteObject', Resource: objects('snapshots/*') },
        list,
        kms,
      ],
    };
    for (const [name, fn] of Object.entries(pipeline.functions)) {
      const roleId = logicalIdOf(fn.role as IConstruct);
      const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
        JSON.stringify(policy.Properties.Roles).includes(roleId),
      );
      const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement);
      expect(statements, name).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: expect.anything(),
        },
        ...(expected[name] ?? []),
        // Only finalize signs (test/infra/snapshot-signing.test.ts).
        ...(name === 'finalize'
          ? [
              {
                Effect: 'Allow',
                Action: ['kms:GetPublicKey', 'kms:Sign'],
                Resource: { 'Fn::GetAtt': [logicalIdOf(pipeline.signingKey), 'Arn'] },
              },
            ]
          : []),
      ]);
    }
  });

  it('passes references between states, never keys, and ends the held snapshot from the plan function', () => {
    const { stack, template } = synth();
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const definition = JSON.stringify(machine?.Properties.DefinitionString);
    expect(definition).not.toMatch(/digestKey|transactionId|databaseSnapshot/);
    const planArn = logicalIdOf(stack.pipeline?.functions.plan as IConstruct);
    for (const state of ['ReleaseSnapshot', 'ReleaseSnapshotAfterFailure']) {
      expect(definition).toContain(`\\"${state}\\":{`);
    }
    expect(definition).toContain('{\\"release.$\\":\\"$.plan.snapshotId\\"}');
    expect(definition).toContain(planArn);
    // The finalize payload is the run's id (and the caught error after a failure).
    expect(definition).toContain('\\"Parameters\\":{\\"snapshotId.$\\":\\"$.plan.snapshotId\\"}');
  });

  it('uses a wildcard resource only where AWS has no resource-level permission (X-Ray, Logs delivery)', () => {
    const { template } = synth();
    const wildcards = [
      ...statementsOf(template, 'AWS::IAM::Policy'),
      ...statementsOf(template, 'AWS::IAM::ManagedPolicy'),
    ].filter(({ statement }) => JSON.stringify(statement.Resource) === '"*"');
    // These come from the state machine's tracing and logging (see the acknowledgement in
    // export-pipeline.ts): X-Ray PutTraceSegments and CloudWatch Logs' delivery APIs take no resource.
    const actions = wildcards.flatMap(({ statement }) => [statement.Action].flat()).sort();
    expect(actions).toEqual([
      'logs:CreateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:DescribeLogGroups',
      'logs:DescribeResourcePolicies',
      'logs:GetLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:UpdateLogDelivery',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  it('grants developers list under snapshots/, get on published files and latest.json, kms:Decrypt and the signing key’s public key, nothing else', () => {
    const { stack, template } = synth();
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.exact([
          ...snapshotReadStatements(stack.snapshots),
          {
            Effect: 'Allow',
            Action: 'kms:GetPublicKey',
            Resource: { 'Fn::GetAtt': [logicalIdOf(stack.pipeline?.signingKey as IConstruct), 'Arn'] },
          },
        ]),
        Version: '2012-10-17',
      },
    });
  });

  it('grants devsnap share put and get on shares/ only, which expire after 8 days', () => {
    const { stack, template } = synth();
    const bucketArn = { 'Fn::GetAtt': [logicalIdOf(stack.snapshots.bucket), 'Arn'] };
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      Description: 'Share devsnap snapshots with presigned links (devsnap share)',
      PolicyDocument: {
        Statement: Match.exact([
          {
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:PutObject'],
            Resource: { 'Fn::Join': ['', [bucketArn, '/shares/*']] },
          },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: { 'Fn::GetAtt': [logicalIdOf(stack.snapshots.key), 'Arn'] },
          },
        ]),
        Version: '2012-10-17',
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          { Id: 'ExpireShares', Prefix: 'shares/', ExpirationInDays: 8, Status: 'Enabled' },
        ]),
      },
    });
  });

  it('refuses a privileged source role unless devsnap:allowPrivilegedSourceRole says otherwise', () => {
    const variables = (context: Record<string, unknown>) =>
      Object.values(synth(context).template.findResources('AWS::Lambda::Function')).map(
        (fn) => fn.Properties.Environment.Variables.DEVSNAP_ALLOW_PRIVILEGED_SOURCE,
      );
    expect(variables({})).toEqual([undefined, undefined, undefined]);
    expect(variables({ 'devsnap:allowPrivilegedSourceRole': 'true' })).toEqual(['true', 'true', 'true']);
  });

  it('schedules the state machine nightly in UTC by default, and takes cron and time zone from context', () => {
    const { stack, template } = synth();
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      Target: {
        Arn: { Ref: logicalIdOf(stack.pipeline?.stateMachine as IConstruct) },
        Input: '{}',
      },
    });
    synth({
      'devsnap:scheduleCron': 'cron(30 1 ? * MON-FRI *)',
      'devsnap:scheduleTimeZone': 'Europe/Berlin',
    }).template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 1 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
    });
  });

  it('logs every state machine transition without execution data, traces it, and bounds the Map', () => {
    const { template } = synth({ 'devsnap:maxConcurrency': '3', 'devsnap:partRows': '250000' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DEVSNAP_PART_ROWS: '250000' }) },
    });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      TracingConfiguration: { Enabled: true },
    });
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const definition = JSON.stringify(machine?.Properties.DefinitionString);
    expect(definition).toContain('\\"MaxConcurrency\\":3');
  });

  it.each([
    ['maxConcurrency', '0'],
    ['partRows', '1.5'],
  ])('refuses devsnap:%s = %s and names the setting', (name, value) => {
    expect(() => synth({ [`devsnap:${name}`]: value })).toThrow(
      `${name} must be a whole number >= 1, got ${value}`,
    );
  });

  it('alarms when a run fails', () => {
    const { stack, template } = synth();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Dimensions: [
        { Name: 'StateMachineArn', Value: { Ref: logicalIdOf(stack.pipeline?.stateMachine as IConstruct) } },
      ],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('has no cdk-nag AwsSolutions finding left unacknowledged', () => {
    const { app } = synth();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('leaves the pipeline out, and says how to add it, without devsnap:clusterArn', () => {
    const { stack, template } = synth({ 'devsnap:clusterArn': '' });
    expect(stack.pipeline).toBeUndefined();
    template.resourceCountIs('AWS::Lambda::Function', 0);
    // The developers' read and share policies.
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 2);
  });

  it('bundles each handler as one minified ES module with the config compiled in and only the binaries its step uses, each within 8 MB, that loads on Node', {
    timeout: 180_000,
  }, async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'devsnap-bundle-'));
    try {
      const { template } = synth({}, { bundle: true, outdir });
      // Each function's asset directory, by step: its code's S3 key is the asset's hash.
      const assetOf: Record<string, string> = {};
      for (const [id, resource] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
        const step = /(Plan|Export|Finalize)[0-9A-F]{8}$/.exec(id)?.[1]?.toLowerCase();
        const key = (resource as { Properties: { Code: { S3Key: string } } }).Properties.Code.S3Key;
        if (step) assetOf[step] = `asset.${key.replace(/\.zip$/, '')}`;
      }
      // No config file and no node_modules beside index.mjs: the config is compiled in. PostgreSQL's
      // parser (libpg-query), which the sources' read-only guard needs, goes with the steps that read the
      // database; parquet-wasm (gzipped) with the one that writes Parquet. Finalize does neither.
      const expected: Record<string, string[]> = {
        plan: ['index.mjs', 'libpg-query.wasm'],
        export: ['index.mjs', 'libpg-query.wasm', 'parquet_wasm_bg.wasm.gz'],
        finalize: ['index.mjs'],
      };
      expect(Object.keys(assetOf).sort()).toEqual(['export', 'finalize', 'plan']);
      for (const [step, asset] of Object.entries(assetOf)) {
        const directory = join(outdir, asset);
        expect(readdirSync(directory).sort()).toEqual(expected[step]);
        const sizes = readdirSync(directory).map((name) => statSync(join(directory, name)).size);
        expect(sizes.reduce((sum, size) => sum + size, 0)).toBeLessThanOrEqual(8_000_000);
        const code = readFileSync(join(directory, 'index.mjs'), 'utf8');
        // Minified: thousands of characters a line (readable code has about forty).
        expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
        // zod with its English messages only, not its 50-odd locales.
        expect(code).not.toContain('Ongeldige invoer');
        // Every import resolves: the handler gets as far as reading its environment.
        const loaded = await promisify(execFile)(
          process.execPath,
          // The handler loads, and with it PostgreSQL's parser, which reads its .wasm on import.
          ['--input-type=module', '-e', `import('./index.mjs').catch((e) => console.log(e.message))`],
          {
            cwd: directory,
            env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
          },
        );
        expect(loaded.stdout).toContain('Environment variable DEVSNAP_BUCKET is not set on this function.');
        // A missing libpg-query.wasm would abort its loader (an unhandled rejection, reported here).
        expect(loaded.stderr).not.toMatch(/wasm|ENOENT|Aborted/i);
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('ExportPipeline in pg mode (direct connection from a VPC)', () => {
  const URL_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:devsnap-url-QwErTy';
  const pgContext = {
    'devsnap:clusterArn': '',
    'devsnap:source': 'pg',
    'devsnap:databaseUrlSecretArn': URL_SECRET_ARN,
    'devsnap:vpcId': 'vpc-0123456789abcdef0',
    'devsnap:availabilityZones': 'eu-west-1a,eu-west-1b',
    'devsnap:privateSubnetIds': 'subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb',
    'devsnap:databaseCidr': '10.0.8.0/24',
    'devsnap:databasePort': '6432',
    'devsnap:s3PrefixListId': 'pl-6da54004',
    'devsnap:endpointsCidr': '10.0.0.0/16',
  };

  it('puts plan and workers in the private subnets with their own security group and the URL secret; finalize outside', () => {
    const { stack, template } = synth(pgContext);
    const groupId = logicalIdOf(stack.pipeline?.securityGroups[0] as IConstruct);
    const finalizeId = logicalIdOf(stack.pipeline?.functions.finalize as IConstruct);
    for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.VpcConfig).toEqual(
        id === finalizeId
          ? undefined
          : {
              SubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
              SecurityGroupIds: [{ 'Fn::GetAtt': [groupId, 'GroupId'] }],
            },
      );
      expect(fn.Properties.Environment.Variables).toMatchObject({
        DEVSNAP_SOURCE: 'pg',
        DEVSNAP_DATABASE_URL_SECRET_ARN: URL_SECRET_ARN,
      });
      expect(fn.Properties.Environment.Variables.DEVSNAP_CLUSTER_ARN).toBeUndefined();
    }
    const statements = statementsOf(template, 'AWS::IAM::Policy').map(({ statement }) => statement);
    expect(statements.flatMap((statement) => [statement.Action].flat())).not.toContain(
      'rds-data:ExecuteStatement',
    );
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: [ANONYMISE_SECRET_ARN, URL_SECRET_ARN],
    });
  });

  it('lets the functions out to the database port and HTTPS to the S3 and Secrets Manager endpoints only', () => {
    const { stack, template } = synth(pgContext);
    const [group] = Object.values(template.findResources('AWS::EC2::SecurityGroup'));
    const groupId = logicalIdOf(stack.pipeline?.securityGroups[0] as IConstruct);
    // CloudFormation takes a prefix-list rule as a resource of its own.
    const separate = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')).map(
      ({ Properties: { GroupId, ...rule } }) => {
        expect(GroupId).toEqual({ 'Fn::GetAtt': [groupId, 'GroupId'] });
        return rule;
      },
    );
    expect([...(group?.Properties.SecurityGroupEgress ?? []), ...separate]).toEqual([
      {
        CidrIp: '10.0.8.0/24',
        Description: 'PostgreSQL on 6432',
        FromPort: 6432,
        IpProtocol: 'tcp',
        ToPort: 6432,
      },
      {
        CidrIp: '10.0.0.0/16',
        Description: 'Secrets Manager interface endpoint',
        FromPort: 443,
        IpProtocol: 'tcp',
        ToPort: 443,
      },
      {
        DestinationPrefixListId: 'pl-6da54004',
        Description: 'S3 gateway endpoint',
        FromPort: 443,
        IpProtocol: 'tcp',
        ToPort: 443,
      },
    ]);
    // Finalize reads no secret and reaches no database.
    const finalizeRole = logicalIdOf(stack.pipeline?.functions.finalize.role as IConstruct);
    const finalizeActions = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(finalizeRole))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .flatMap((statement: Statement) => [statement.Action].flat());
    expect(finalizeActions.filter((action) => /^(secretsmanager|rds-data|ec2):/.test(action))).toEqual([]);
  });

  it("lets Lambda manage the functions' network interfaces (no resource-level permission exists)", () => {
    const { template } = synth(pgContext);
    const wildcard = statementsOf(template, 'AWS::IAM::Policy')
      .map(({ statement }) => statement)
      .filter((statement) => JSON.stringify(statement.Resource) === '"*"')
      .flatMap((statement) => [statement.Action].flat())
      .filter((action) => action.startsWith('ec2:'));
    expect(new Set(wildcard)).toEqual(
      new Set([
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ]),
    );
  });

  it('has no cdk-nag AwsSolutions finding left unacknowledged', () => {
    const { app } = synth(pgContext);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
