import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AssetHashType,
  DockerImage,
  Duration,
  RemovalPolicy,
  Stack,
  TimeZone,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { PipelineSource, PipelineStep } from './lambda-bundle.js';
import type { SnapshotBucket } from './snapshot-bucket.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface ExportPipelineProps {
  readonly snapshots: SnapshotBucket;
  /** ARN of the Aurora PostgreSQL cluster, read through the RDS Data API. Give this or `pg`. */
  readonly clusterArn?: string;
  /** Secrets Manager secret with the database credentials (the Data API signs in with it). */
  readonly databaseSecretArn?: string;
  readonly database?: string;
  /**
   * pg mode, for PostgreSQL without the Data API: the functions run in the VPC and connect directly.
   * The plan step then exports every table in its one transaction (a direct connection cannot hold a
   * snapshot for other invocations), so the whole export must fit in one 15-minute Lambda run. The
   * subnets need a route to S3 (a gateway endpoint or NAT) and to Secrets Manager.
   */
  readonly pg?: {
    /** A secret whose value is the postgres:// URL of a read-only role. */
    readonly databaseUrlSecretArn: string;
    readonly vpc: ec2.IVpc;
    readonly vpcSubnets?: ec2.SubnetSelection;
    /** Where the database listens: the new security group's only egress besides HTTPS to the endpoints. */
    readonly database: { readonly peer: ec2.IPeer; readonly port?: number };
    /**
     * The S3 gateway endpoint's prefix list (pl-…) and the peer holding the Secrets Manager interface
     * endpoint (usually the VPC's CIDR): the functions' HTTPS egress goes there and nowhere else.
     */
    readonly endpoints: { readonly s3PrefixListId: string; readonly secretsManager: ec2.IPeer };
    /** Must be allowed into the database's security group on its port. @default - a new group, egress as above */
    readonly securityGroups?: ec2.ISecurityGroup[];
  };
  /**
   * Export with a source role that can do more than read (a superuser, pg_signal_backend, dblink, …).
   * The pipeline refuses such a role otherwise, before it reads anything.
   * @default false
   */
  readonly allowPrivilegedSourceRole?: boolean;
  /** Secret with the anonymisation key, when the config reads it from Secrets Manager. */
  readonly anonymiseSecretArn?: string;
  /** The team's devsnap.config.ts, bundled into the functions: config changes ship by review and deploy. */
  readonly configPath: string;
  /**
   * Table parts exported at once within a foreign-key level; each holds one connection and reads
   * one table part, so this bounds the load on production.
   * @default 4
   */
  readonly maxConcurrency?: number;
  /** EventBridge Scheduler cron expression. @default 'cron(0 3 * * ? *)' (nightly) */
  readonly scheduleCron?: string;
  /** IANA time zone of the cron expression. @default 'UTC' */
  readonly scheduleTimeZone?: string;
  /**
   * A table with more selected rows than this is split into ranges of its integer key, each
   * exported by its own worker (at most 32 per table); size it so one part fits in a worker's 15
   * minutes through the Data API. @default 1000000
   */
  readonly partRows?: number;
  /** After a publish, keep this many newest snapshots. @default - keep all; the bucket's lifecycle expires them */
  readonly keepNewest?: number;
  /**
   * The asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) that finalize signs each snapshot's seal
   * with; developers trust its public key (`devsnap trust add`).
   * @default - a new key, retained on stack deletion
   */
  readonly signingKey?: kms.IKey;
  /**
   * Lets the config relax anonymisation (`mode: 'warn'`, `verify: false`): without it the pipeline
   * refuses such a config, because a nightly snapshot must never publish personal data that a
   * rule or the check of every written value would have stopped. For a trial on a copy of
   * production that is itself anonymised, say so here, in review.
   * @default false
   */
  readonly allowUnverifiedPersonalData?: boolean;
}

/**
 * The nightly export: EventBridge Scheduler starts a state machine that plans (one Lambda), exports
 * each foreign-key level's tables in parallel (a Map per level) and finalizes (manifest, then
 * `latest`). Any failure goes to finalize in failure mode, which writes failure.json and leaves
 * `latest` alone, and the execution fails so the alarm fires.
 */
export class ExportPipeline extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly failedRunsAlarm: cloudwatch.Alarm;
  /** Signs every published snapshot; only finalize may use it (kms:Sign, kms:GetPublicKey). */
  readonly signingKey: kms.IKey;
  /** pg mode: the functions' security groups (allow them into the database); empty otherwise. */
  readonly securityGroups: ec2.ISecurityGroup[];
  readonly functions: {
    readonly plan: lambda.Function;
    readonly export: lambda.Function;
    readonly finalize: lambda.Function;
  };

  constructor(scope: Construct, id: string, props: ExportPipelineProps) {
    super(scope, id);
    const maxConcurrency = props.maxConcurrency ?? 4;
    for (const [name, value] of [
      ['maxConcurrency', maxConcurrency],
      ['partRows', props.partRows ?? 1],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(`${this.node.path}: ${name} must be a whole number >= 1, got ${value}`);
      }
    }
    const { snapshots, pg } = props;
    const dataApi = pg ? undefined : dataApiSettings(this, props);
    this.securityGroups = pg ? (pg.securityGroups ?? [functionsSecurityGroup(this, pg)]) : [];
    const environment: Record<string, string> = {
      DEVSNAP_BUCKET: snapshots.bucket.bucketName,
      ...(dataApi
        ? {
            DEVSNAP_CLUSTER_ARN: dataApi.clusterArn,
            DEVSNAP_DATABASE_SECRET_ARN: dataApi.databaseSecretArn,
            DEVSNAP_DATABASE: dataApi.database,
          }
        : {
            DEVSNAP_SOURCE: 'pg',
            DEVSNAP_DATABASE_URL_SECRET_ARN: (pg as NonNullable<typeof pg>).databaseUrlSecretArn,
          }),
      ...(props.keepNewest ? { DEVSNAP_KEEP_NEWEST: String(props.keepNewest) } : {}),
      ...(props.partRows ? { DEVSNAP_PART_ROWS: String(props.partRows) } : {}),
      ...(props.allowPrivilegedSourceRole ? { DEVSNAP_ALLOW_PRIVILEGED_SOURCE: 'true' } : {}),
      ...(props.allowUnverifiedPersonalData ? { DEVSNAP_ALLOW_UNVERIFIED_PERSONAL_DATA: 'true' } : {}),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const fn = (
      name: string,
      step: PipelineStep,
      timeout: Duration,
      memorySize: number,
      reachesDatabase: boolean,
    ) => {
      const inVpc = pg !== undefined && reachesDatabase;
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // An own role instead of AWSLambdaBasicExecutionRole: writes to this function's log group only.
      const role = new iam.Role(this, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `devsnap ${name.toLowerCase()} step`,
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
      );
      if (inVpc) {
        // What AWSLambdaVPCAccessExecutionRole grants: Lambda manages the function's network
        // interfaces, whose ids are not known in advance, so these EC2 actions take no resource.
        role.addToPolicy(
          new iam.PolicyStatement({
            actions: [
              'ec2:CreateNetworkInterface',
              'ec2:DescribeNetworkInterfaces',
              'ec2:DescribeSubnets',
              'ec2:DeleteNetworkInterface',
              'ec2:AssignPrivateIpAddresses',
              'ec2:UnassignPrivateIpAddresses',
            ],
            resources: ['*'],
          }),
        );
      }
      const handler = new lambda.Function(this, name, {
        role,
        ...(inVpc
          ? {
              vpc: pg.vpc,
              vpcSubnets: pg.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
              securityGroups: this.securityGroups,
            }
          : {}),
        code: handlerCode(step, props.configPath, pg ? 'pg' : 'rds-data'),
        handler: 'index.handler',
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        timeout,
        memorySize,
        environment,
        logGroup,
      });
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'nodejs22.x on purpose: the newest runtime the team has tested; move with the CLI support window.',
      });
      return handler;
    };
    this.functions = {
      plan: fn('Plan', 'plan', Duration.minutes(15), 1024, true),
      export: fn('Export', 'export', Duration.minutes(15), 2048, true),
      // Finalize only moves objects in S3 and signs: outside the VPC, no database, no secret.
      finalize: fn('Finalize', 'finalize', Duration.minutes(5), 512, false),
    };
    this.grantAccess(props);
    this.signingKey =
      props.signingKey ??
      new kms.Key(this, 'SigningKey', {
        description: 'Signs devsnap snapshots (seal.json); developers verify with its public key',
        keySpec: kms.KeySpec.ECC_NIST_P256,
        keyUsage: kms.KeyUsage.SIGN_VERIFY,
        // Trusted keys are pinned on laptops: a deleted stack must not take the key with it.
        removalPolicy: RemovalPolicy.RETAIN,
      });
    // Only finalize signs, and it can do nothing else with the key (no Verify, no key management).
    this.signingKey.grant(this.functions.finalize, 'kms:Sign', 'kms:GetPublicKey');
    this.functions.finalize.addEnvironment('DEVSNAP_SIGNING_KEY_ID', this.signingKey.keyArn);
    if (pg) {
      for (const handler of [this.functions.plan, this.functions.export]) {
        acknowledgeOnPolicy(
          handler,
          ['AwsSolutions-IAM5[Resource::*]'],
          "pg mode: Lambda creates and deletes the function's network interfaces, whose ids are unknown in advance.",
        );
      }
    }

    this.stateMachine = this.buildStateMachine(maxConcurrency);
    this.failedRunsAlarm = new cloudwatch.Alarm(this, 'FailedRuns', {
      alarmDescription:
        'A nightly devsnap export failed; latest.json still names the previous snapshot. See failure.json.',
      metric: this.stateMachine.metricFailed({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    new scheduler.Schedule(this, 'Nightly', {
      description: 'Starts the devsnap export',
      schedule: scheduler.ScheduleExpression.expression(
        props.scheduleCron ?? 'cron(0 3 * * ? *)',
        TimeZone.of(props.scheduleTimeZone ?? 'UTC'),
      ),
      target: new targets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({}),
      }),
    });
  }

  /**
   * Each step gets what its code does and nothing more. Run ids are new every night, so writes are
   * confined by the layout instead: plan writes a run's schema/ and .work/ (and its own failure.json),
   * workers its data/ and .work/, neither deletes; only finalize writes manifest.json, failure.json
   * and latest.json and deletes (.work/ after a run, a failed run's files, retention). Finalize has
   * no database access and no secret: the plan function ends the held snapshot.
   */
  private grantAccess(props: ExportPipelineProps): void {
    const { plan, export: worker, finalize } = this.functions;
    const { bucket, key } = props.snapshots;
    const bucketId = Stack.of(this).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    const list = new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': ['snapshots/', 'snapshots/*', 'latest.json'] } },
    });
    // Uploads are multipart (lib-storage): PutObject covers their parts; a failed one is aborted.
    const write = ['s3:PutObject', 's3:AbortMultipartUpload'];
    const encrypt = new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [key.keyArn],
    });
    const database = props.pg
      ? []
      : [
          new iam.PolicyStatement({
            actions: [
              'rds-data:BeginTransaction',
              'rds-data:ExecuteStatement',
              // Every transaction is read-only and ends in a rollback; nothing is committed.
              'rds-data:RollbackTransaction',
            ],
            resources: [props.clusterArn as string],
          }),
        ];
    const secrets = new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [
        props.pg ? props.pg.databaseUrlSecretArn : (props.databaseSecretArn as string),
        ...(props.anonymiseSecretArn ? [props.anonymiseSecretArn] : []),
      ],
    });
    const steps: {
      handler: lambda.IFunction;
      objects: [actions: string[], patterns: string[]][];
      other: iam.PolicyStatement[];
    }[] = [
      {
        handler: plan,
        objects: [
          [['s3:GetObject'], ['snapshots/*/.work/*']],
          [write, ['snapshots/*/schema/*', 'snapshots/*/.work/*', 'snapshots/*/failure.json']],
        ],
        other: [list, encrypt, ...database, secrets],
      },
      {
        handler: worker,
        objects: [
          [['s3:GetObject'], ['snapshots/*/.work/*']],
          [write, ['snapshots/*/data/*', 'snapshots/*/.work/*']],
        ],
        other: [list, encrypt, ...database, secrets],
      },
      {
        handler: finalize,
        objects: [
          [['s3:GetObject'], ['snapshots/*', 'latest.json']],
          [
            write,
            ['snapshots/*/manifest.json', 'snapshots/*/seal.json', 'snapshots/*/failure.json', 'latest.json'],
          ],
          [['s3:DeleteObject'], ['snapshots/*']],
        ],
        other: [list, encrypt],
      },
    ];
    for (const { handler, objects, other } of steps) {
      for (const [actions, patterns] of objects) {
        handler.addToRolePolicy(
          new iam.PolicyStatement({
            actions,
            resources: patterns.map((pattern) => bucket.arnForObjects(pattern)),
          }),
        );
      }
      for (const statement of other) handler.addToRolePolicy(statement);
      const wildcards = [
        ...new Set(objects.flatMap(([, patterns]) => patterns.filter((p) => p.includes('*')))),
      ];
      acknowledgeOnPolicy(
        handler,
        wildcards.map((pattern) => `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${pattern}]`),
        'Each run writes under snapshots/<new id>/, unknown at deploy time; the layout is the narrowest scope.',
      );
    }
  }

  private buildStateMachine(maxConcurrency: number): sfn.StateMachine {
    const { plan, export: worker, finalize } = this.functions;
    const runFailed = new sfn.Fail(this, 'RunFailed', {
      error: 'DevsnapExportFailed',
      cause: 'See failure.json in the snapshot folder; latest.json was not moved.',
    });
    const planTask = new tasks.LambdaInvoke(this, 'PlanExport', {
      lambdaFunction: plan,
      payloadResponseOnly: true,
      resultPath: '$.plan',
    });
    const exportTask = new tasks.LambdaInvoke(this, 'ExportTables', {
      lambdaFunction: worker,
      payloadResponseOnly: true,
      // Results are in S3; keep the Map's output small.
      resultPath: sfn.JsonPath.DISCARD,
    });
    // Items are table parts ({ table, part }); what every worker shares (the run) is added to each
    // item here rather than repeated in the plan's output.
    const level = new sfn.Map(this, 'ExportLevel', {
      itemsPath: '$.items',
      itemSelector: { 'part.$': '$$.Map.Item.Value', 'run.$': '$.run' },
      maxConcurrency,
      resultPath: sfn.JsonPath.DISCARD,
    }).itemProcessor(exportTask);
    const levels = new sfn.Map(this, 'ExportLevels', {
      itemsPath: '$.plan.levels',
      itemSelector: { 'items.$': '$$.Map.Item.Value.items', 'run.$': '$.plan.run' },
      // Levels run in order: parents before children.
      maxConcurrency: 1,
      resultPath: sfn.JsonPath.DISCARD,
    }).itemProcessor(level);
    // Payloads carry the run's reference only; its keys are in the run's .work/ folder.
    const finalizeInput = { snapshotId: sfn.JsonPath.stringAt('$.plan.snapshotId') };
    // The plan function, which began the held database snapshot, ends it: finalize has no database access.
    const releaseTask = (id: string) =>
      new tasks.LambdaInvoke(this, id, {
        lambdaFunction: plan,
        payloadResponseOnly: true,
        payload: sfn.TaskInput.fromObject({ release: sfn.JsonPath.stringAt('$.plan.snapshotId') }),
        resultPath: sfn.JsonPath.DISCARD,
      });
    const finalizeTask = new tasks.LambdaInvoke(this, 'FinalizeExport', {
      lambdaFunction: finalize,
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject(finalizeInput),
      resultPath: '$.result',
    });
    const finalizeFailed = new tasks.LambdaInvoke(this, 'FinalizeFailedExport', {
      lambdaFunction: finalize,
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject({ ...finalizeInput, error: sfn.JsonPath.objectAt('$.error') }),
      resultPath: '$.result',
    }).next(runFailed);
    const releaseAfterFailure = releaseTask('ReleaseSnapshotAfterFailure');
    // A release that fails leaves the snapshot to expire (3 minutes idle); the run goes on to finalize.
    releaseAfterFailure.addCatch(finalizeFailed, { resultPath: sfn.JsonPath.DISCARD }).next(finalizeFailed);
    levels.addCatch(releaseAfterFailure, { resultPath: '$.error' });
    const release = releaseTask('ReleaseSnapshot');
    release.addCatch(finalizeTask, { resultPath: sfn.JsonPath.DISCARD });
    const published = new sfn.Choice(this, 'Published?')
      .when(sfn.Condition.stringEquals('$.result.status', 'published'), new sfn.Succeed(this, 'Done'))
      .otherwise(runFailed);

    const machine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'devsnap nightly export: plan, export each foreign-key level, finalize',
      definitionBody: sfn.DefinitionBody.fromChainable(
        planTask.next(levels).next(release).next(finalizeTask).next(published),
      ),
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'StateMachineLogs', {
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        // Every transition, without inputs and outputs (they hold table names only, but need not be kept).
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    const machinePolicy = machine.role.node.findChild('DefaultPolicy');
    Validations.of(machinePolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments and the CloudWatch Logs delivery APIs have no resource-level permissions.',
    });
    for (const handler of [plan, worker, finalize]) {
      Validations.of(machinePolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(handler.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        reason: 'LambdaInvoke grants invoke on the function and its versions; still only this function.',
      });
    }
    return machine;
  }
}

function dataApiSettings(scope: Construct, props: ExportPipelineProps) {
  const { clusterArn, databaseSecretArn, database } = props;
  if (!clusterArn || !databaseSecretArn || !database) {
    throw new Error(
      `${scope.node.path}: give clusterArn, databaseSecretArn and database (Data API), or pg (direct connection in a VPC)`,
    );
  }
  return { clusterArn, databaseSecretArn, database };
}

/**
 * A step's code: infra/lambda-bundle.ts writes index.mjs (handler, compiled-in config, dependencies;
 * minified) and the binaries the step uses (gzipped parquet-wasm, libpg-query), on this machine and
 * offline. It runs in its own process because CDK bundles synchronously. The asset's hash is that of
 * the output.
 */
function handlerCode(step: PipelineStep, configPath: string, source: PipelineSource): lambda.Code {
  const script = join(ROOT, 'infra/lambda-bundle.ts');
  return lambda.Code.fromAsset(join(ROOT, 'functions'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
      // CDK reuses a bundle for the same source and options in one process; the step and the config
      // make each function's options its own.
      command: ['node', '--import', 'tsx', script, JSON.stringify({ step, configPath, source })],
      local: {
        tryBundle(outdir) {
          const request = JSON.stringify({ step, configPath, outdir, source });
          execFileSync(process.execPath, ['--import', 'tsx', script, request], {
            cwd: ROOT,
            stdio: ['ignore', 'ignore', 'inherit'],
          });
          return true;
        },
      },
    },
  });
}

/** Acknowledges cdk-nag findings on one function's role policy only (never construct-wide). */
function acknowledgeOnPolicy(handler: lambda.IFunction, ids: readonly string[], reason: string): void {
  const policy = handler.role?.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`${handler.node.path} has no role policy to acknowledge findings on`);
  for (const id of ids) Validations.of(policy).acknowledge({ id, reason });
}

/** pg mode: egress to the database's port and HTTPS to the S3 and Secrets Manager endpoints, nothing else. */
function functionsSecurityGroup(
  scope: Construct,
  pg: NonNullable<ExportPipelineProps['pg']>,
): ec2.SecurityGroup {
  const group = new ec2.SecurityGroup(scope, 'FunctionsSecurityGroup', {
    vpc: pg.vpc,
    description: 'devsnap export functions: outbound to the database, S3 and Secrets Manager only',
    allowAllOutbound: false,
  });
  const port = pg.database.port ?? 5432;
  group.addEgressRule(pg.database.peer, ec2.Port.tcp(port), `PostgreSQL on ${port}`);
  group.addEgressRule(
    ec2.Peer.prefixList(pg.endpoints.s3PrefixListId),
    ec2.Port.tcp(443),
    'S3 gateway endpoint',
  );
  group.addEgressRule(pg.endpoints.secretsManager, ec2.Port.tcp(443), 'Secrets Manager interface endpoint');
  return group;
}
