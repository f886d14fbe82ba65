import path from 'node:path';
import { Command, Option } from 'commander';
import { ChatController } from '../../chat/ChatController.js';
import { ChatSession } from '../../chat/ChatSession.js';
import { resolvePersonaRef } from '../../chat/resolvePersonaRef.js';
import { runChatLines } from '../../chat/runChatLines.js';
import { runChatTerminal } from '../../chat/ChatTerminal.js';
import { validateSampling } from '../../engine/generate/sampling.js';
import { EngineWorker } from '../../engine/worker/EngineWorker.js';
import { DEFAULT_MODEL_DIR, DEFAULT_PERSONAS_DIR } from '../../model/defaultModel.js';
import { OPERATORS, type Operator } from '../../steering/resolveSteering.js';
import { steeringWarning } from '../../steering/steeringWarning.js';
import { intArg, layersArg, modelOptions, modelSpecFromFlags, numberArg, type ModelFlags } from '../common.js';
import { DEFAULTS } from '../../engine/defaults.js';

interface ChatFlags extends ModelFlags {
  persona?: string;
  alpha: number;
  alphaStep?: number;
  layer?: number[];
  operator: Operator;
  cap?: number;
  system?: string;
  maxNewTokens: number;
  temperature: number;
  topP?: number;
  topK?: number;
  seed: number;
  thinking: 'on' | 'off';
}

/** The persona shipped for the embedded model that the chat starts with when none is given. */
const DEFAULT_CHAT_PERSONA = 'formal';

/**
 * `persona chat`: a terminal chat with live steering (see `runChatTerminal`); reads lines from
 * stdin when it is not a terminal.
 *
 * @example
 * // persona chat                                  embedded model, shipped `formal` persona, alpha 0
 * // persona chat --persona vivid --alpha 4 --temperature 0.8
 * program.addCommand(chatCommand());
 */
export function chatCommand(): Command {
  const cmd = new Command('chat')
    .description('talk to a model in the terminal, steering it live: ↑/↓ change alpha, Ctrl-T toggles steering, /help for commands')
    .option(
      '-p, --persona <name|file>',
      `a persona shipped with the embedded model (formal, vivid) or a persona file (default with the embedded model: ${DEFAULT_CHAT_PERSONA}); one whose file records the does-not-steer verdict is marked in the status line and warned about on stderr`,
    )
    .option('-a, --alpha <alpha>', 'starting alpha; 0 is the unsteered model', numberArg('--alpha'), 0)
    .option('--alpha-step <step>', "alpha change per ↑/↓ (default: 1/16 of the persona's alpha range, 1 for the shipped personas)", numberArg('--alpha-step'))
    .option(
      '--layer <l>',
      "decoder layer(s) to steer, e.g. 3, 2-4 or 2,5; the first is measured (default: the persona's recommended layer)",
      layersArg('--layer'),
    )
    .addOption(
      new Option('--operator <op>', 'add alpha·v; ablate or cap the direction; ablate-add (remove, then add alpha·v); /operator changes it live')
        .choices(OPERATORS as string[])
        .default('add'),
    )
    .option('--cap <c>', 'for --operator cap: the largest projection allowed on the unit vector', numberArg('--cap'))
    .option('--system <text>', 'system prompt')
    .option('--max-new-tokens <n>', 'most tokens per answer', intArg('--max-new-tokens'), DEFAULTS.chat.maxNewTokens)
    .option('--temperature <t>', '0 = greedy (answers change only with alpha and the conversation)', numberArg('--temperature'), 0)
    .option('--top-p <p>', 'nucleus sampling', numberArg('--top-p'))
    .option('--top-k <k>', 'top-k sampling', intArg('--top-k'))
    .option('--seed <n>', 'sampling seed (answer n uses seed + n)', intArg('--seed'), 0)
    .addOption(
      new Option(
        '--thinking <on|off>',
        "let a thinking model (Qwen3) think first: the chat template's enable_thinking; the thinking is shown dimmed, apart from the answer",
      )
        .choices(['on', 'off'])
        .default('off'),
    );
  for (const o of modelOptions()) cmd.addOption(o);
  return cmd.action(async (o: ChatFlags) => {
    const embedded = o.model === DEFAULT_MODEL_DIR;
    const personaRef = o.persona ?? (embedded ? DEFAULT_CHAT_PERSONA : undefined);
    const personaDirs = [...new Set([...(o.persona && /[\\/]|\.json$/.test(o.persona) ? [path.dirname(o.persona)] : []), DEFAULT_PERSONAS_DIR])];
    const persona = personaRef ? await resolvePersonaRef(personaRef, personaDirs) : null;
    const warning = persona && steeringWarning(persona);
    if (warning) process.stderr.write(`warning: ${warning}\n`);
    const sampling = { temperature: o.temperature, topP: o.topP, topK: o.topK, seed: o.seed };
    validateSampling(sampling);
    const spec = modelSpecFromFlags(o);
    if (process.stderr.isTTY) process.stderr.write(`loading ${embedded ? 'the embedded model' : o.model}…\r`);
    const engine = await EngineWorker.start(spec);
    if (process.stderr.isTTY) process.stderr.write('\x1b[2K\r');
    try {
      const session = new ChatSession(engine.info, {
        persona,
        alpha: o.alpha,
        alphaStep: o.alphaStep,
        layer: o.layer,
        operator: o.operator,
        cap: o.cap,
        system: o.system,
      });
      const chat = new ChatController(engine, session, {
        personaDirs,
        maxNewTokens: o.maxNewTokens,
        sampling,
        thinking: o.thinking === 'on',
      });
      if (process.stdin.isTTY && process.stdout.isTTY) await runChatTerminal(chat);
      else await runChatLines(chat, { input: process.stdin, output: process.stdout });
    } finally {
      await engine.close();
    }
  });
}
