import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { TrustFile, TrustFileEntry } from '../../core/trust/trusted-keys.js';
import type { CliIo } from '../cli-context.js';
import { emit } from '../output.js';
import { formatTable } from '../text-table.js';

interface TrustOptions {
  configDir?: string;
  json?: boolean;
}

/** Loaded when a trust command runs, so `--help` stays light. */
async function trustFile(options: TrustOptions, io: CliIo): Promise<TrustFile> {
  const { defaultConfigDirectory, TrustFile } = await import('../../core/trust/trusted-keys.js');
  return new TrustFile(options.configDir ?? defaultConfigDirectory(io.env));
}

/** The key as given: a file holding it, or the key itself (base64 DER or PEM). */
async function keyText(argument: string): Promise<{ text: string; where: string }> {
  const isFile = await stat(argument).then(
    (found) => found.isFile(),
    () => false,
  );
  if (!isFile) return { text: argument, where: 'the key given' };
  return { text: await readFile(argument, 'utf8'), where: argument };
}

export async function runTrustAdd(
  key: string,
  options: TrustOptions & { name?: string },
  io: CliIo,
): Promise<{ key: TrustFileEntry; file: string }> {
  const { text, where } = await keyText(key);
  const { parsePublicKey } = await import('../../core/trust/public-key.js');
  const publicKey = parsePublicKey(text, where);
  const file = await trustFile(options, io);
  const entry = await file.add(publicKey, options.name ?? `added ${new Date().toISOString().slice(0, 10)}`);
  return { key: entry, file: file.path };
}

export function registerTrust(program: Command, io: CliIo): void {
  const trust = program
    .command('trust')
    .description('Manage the public keys whose signature every pulled or imported snapshot must carry')
    .addHelpText(
      'after',
      "\nWith any key trusted — here, in $DEVSNAP_TRUSTED_KEYS, or in the config's trust.keys — pull and import\n" +
        'refuse snapshots that are unsigned or not signed by one of them. The pipeline signs with its KMS key:\n' +
        '  devsnap trust add "$(aws kms get-public-key --key-id <SnapshotSigningKeyArn> --query PublicKey --output text)" --name pipeline',
    );
  const configDir = [
    '--config-dir <dir>',
    'where trusted keys are kept (default: $DEVSNAP_CONFIG_DIR or ~/.config/devsnap)',
  ] as const;

  trust
    .command('add')
    .description('Trust a public key: base64 DER (as AWS KMS prints it), PEM, or a file holding either')
    .argument('<key>', 'the public key, or a file that holds it')
    .option('--name <name>', 'a name to recognise it by in devsnap trust list')
    .option(...configDir)
    .option('--json', 'print JSON')
    .action(async (key: string, options: TrustOptions & { name?: string }) => {
      const result = await runTrustAdd(key, options, io);
      emit(io, options.json, { command: 'trust add', ...result }, () =>
        [
          `Trusting key ${result.key.id} (${result.key.name}), saved in ${result.file}.`,
          'Pull and import now refuse snapshots that are not signed by a trusted key.',
        ].join('\n'),
      );
    });

  trust
    .command('list')
    .description('List the trusted keys saved with devsnap trust add')
    .option(...configDir)
    .option('--json', 'print JSON')
    .action(async (options: TrustOptions) => {
      const file = await trustFile(options, io);
      const keys = await file.entries();
      emit(io, options.json, { command: 'trust list', file: file.path, keys }, () =>
        keys.length === 0
          ? `No trusted keys in ${file.path}: snapshots are checked against their own digests only.`
          : formatTable(
              [{ header: 'key id' }, { header: 'name' }, { header: 'added' }],
              keys.map((entry) => [entry.id, entry.name, entry.addedAt]),
            ),
      );
    });

  trust
    .command('remove')
    .description('Stop trusting a key')
    .argument('<key-id>', 'its id from devsnap trust list (or a unique prefix of at least 4 digits)')
    .option(...configDir)
    .option('--json', 'print JSON')
    .action(async (id: string, options: TrustOptions) => {
      const file = await trustFile(options, io);
      const removed = await file.remove(id);
      if (!removed) {
        throw new UsageError(`No trusted key ${id} in ${file.path}.`, {
          hint: 'See the ids with devsnap trust list.',
        });
      }
      emit(
        io,
        options.json,
        { command: 'trust remove', key: removed },
        () => `No longer trusting key ${removed.id} (${removed.name}).`,
      );
    });
}
