import { Command } from 'commander';
import { PersonaError } from '../errors.js';
import { TOOL_VERSION } from '../version.js';
import { runCommand } from './commands/runCommand.js';
import { trainCommand } from './commands/trainCommand.js';
import { verifyCommand } from './commands/verifyCommand.js';
import { extraCommands } from './extraCommands.js';
import { renameDeprecatedFlags } from './renameDeprecatedFlags.js';

/** The `persona` command line. */
export async function main(argvGiven: string[]): Promise<void> {
  const argv = renameDeprecatedFlags(argvGiven);
  const program = new Command('persona')
    .description('Persona vectors for open-weight language models: learn a direction in the residual stream, steer generation with it.')
    .version(TOOL_VERSION)
    .showHelpAfterError();
  program.addCommand(runCommand(argv.slice(2)));
  program.addCommand(trainCommand());
  program.addCommand(verifyCommand());
  for (const c of await extraCommands()) program.addCommand(c);
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (e.code && e.code.startsWith('commander.')) {
      process.exitCode = e.exitCode ?? 1;
      return;
    }
    if (err instanceof PersonaError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
