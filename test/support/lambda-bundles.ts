import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  bundleLambda,
  type LambdaBundle,
  type PipelineSource,
  type PipelineStep,
} from '../../infra/lambda-bundle.js';

export interface BundledHandlers {
  readonly directory: string;
  readonly bundles: Readonly<Record<PipelineStep, LambdaBundle>>;
}

/** The three handlers bundled with a config exactly as `cdk synth` bundles them, in a temporary directory. */
export async function bundleHandlers(
  configPath: string,
  source: PipelineSource = 'rds-data',
): Promise<BundledHandlers> {
  const directory = await mkdtemp(join(tmpdir(), 'devsnap-lambda-'));
  const bundle = (step: PipelineStep) =>
    bundleLambda({ step, configPath, source, outdir: join(directory, step) });
  const [plan, exportStep, finalize] = await Promise.all([
    bundle('plan'),
    bundle('export'),
    bundle('finalize'),
  ]);
  return { directory, bundles: { plan, export: exportStep, finalize } };
}

/**
 * A Lambda cold start's init phase on this machine: a fresh Node process loads the bundle (parsing
 * it, compiling parquet-wasm, running module scope) with the function's environment. Milliseconds.
 */
export async function measureColdStartInit(bundleDirectory: string, env: NodeJS.ProcessEnv): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const started = performance.now(); await import('./index.mjs'); process.stdout.write(String(performance.now() - started));",
    ],
    { cwd: bundleDirectory, env: { PATH: process.env.PATH, ...env } },
  );
  return Number(stdout);
}
