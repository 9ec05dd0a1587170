#!/usr/bin/env node
/**
 * `npm run nca -- <command> ...`: the headless entry for servers and scripts. Global flags:
 * --data-dir DIR (default: the platform data directory) and --json.
 */
import { resolveDataDir } from '../paths.ts';
import { CliUsageError, type CliCommand, type CliContext } from './types.ts';
import { commands } from './commands/index.ts';

function helpText(all: CliCommand[]): string {
  const lines = ['Usage: npm run nca -- <command> [options] [--data-dir DIR] [--json]', '', 'Commands:'];
  for (const c of all) lines.push(`  ${c.name.padEnd(10)} ${c.summary}`);
  lines.push('', 'Run `npm run nca -- <command> --help` for the options of one command.');
  return lines.join('\n');
}

/** Remove the global flags from argv and return them with the rest. */
export function splitGlobalFlags(argv: string[]): { dataDir?: string; json: boolean; rest: string[] } {
  const rest: string[] = [];
  let dataDir: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a === '--data-dir') {
      dataDir = argv[++i];
      if (!dataDir) throw new CliUsageError('--data-dir needs a directory');
    } else if (a.startsWith('--data-dir=')) dataDir = a.slice('--data-dir='.length);
    else rest.push(a);
  }
  return { dataDir, json, rest };
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const { dataDir, json, rest } = splitGlobalFlags(argv);
    const [name, ...args] = rest;
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(helpText(commands) + '\n');
      return name ? 0 : 2;
    }
    const command = commands.find((c) => c.name === name);
    if (!command) throw new CliUsageError(`unknown command "${name}"\n\n${helpText(commands)}`);
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
    const ctx: CliContext = {
      dataDir: resolveDataDir(dataDir),
      json,
      stdout: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
      stderr: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
      signal: controller.signal,
    };
    return await command.run(args, ctx);
  } catch (err) {
    if (err instanceof CliUsageError) {
      process.stderr.write(`nca: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`nca: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`nca: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
