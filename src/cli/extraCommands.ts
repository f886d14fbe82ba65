import type { Command } from 'commander';
import { analyzeLayersCommand } from './commands/analyzeLayersCommand.js';
import { benchCommand } from './commands/benchCommand.js';
import { cacheCommand } from './commands/cacheCommand.js';
import { chatCommand } from './commands/chatCommand.js';
import { createCommand, generatePromptsCommand } from './commands/createCommand.js';
import { evaluateCommand } from './commands/evaluateCommand.js';
import { monitorCommand } from './commands/monitorCommand.js';
import { screenCommand } from './commands/screenCommand.js';
import { exportCommand, importCommand } from './commands/exportCommand.js';
import { quickStartCommand } from './commands/quickStartCommand.js';
import { serveCommand } from './commands/serveCommand.js';

/** Commands beyond run/train/verify. */
export async function extraCommands(): Promise<Command[]> {
  return [
    quickStartCommand(),
    chatCommand(),
    createCommand(),
    generatePromptsCommand(),
    benchCommand(),
    evaluateCommand(),
    analyzeLayersCommand(),
    exportCommand(),
    importCommand(),
    serveCommand(),
    cacheCommand(),
    monitorCommand(),
    screenCommand(),
  ];
}
