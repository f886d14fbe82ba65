import { promises as fs } from 'node:fs';
import { Command, Option } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { POSITIONS, type Positions } from '../../engine/generate/Intervention.js';
import { loadPersona } from '../../steering/personaFile.js';
import { resolveSteering, UNITS, type SteerSpec, type Units } from '../../steering/resolveSteering.js';
import { intArg, modelOptions, numberArg, openModel, type ModelFlags } from '../common.js';

interface RunFlags extends ModelFlags {
  prompt?: string;
  promptsFile?: string;
  system?: string;
  layer?: number;
  positions: Positions;
  units: Units;
  maxNewTokens: number;
  temperature: number;
  topP?: number;
  topK?: number;
  seed: number;
  json?: boolean;
  thinking: 'on' | 'off';
}

/** Pairs each --persona with the --alpha that follows it (argv order). */
export function pairPersonasWithAlphas(argv: string[]): { persona: string; alpha: number }[] {
  const pairs: { persona: string; alpha: number }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (flag: string) => (a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : argv[++i]);
    if (a === '--persona' || a.startsWith('--persona=') || a === '-p') pairs.push({ persona: val(a === '-p' ? '-p' : '--persona'), alpha: NaN });
    else if (a === '--alpha' || a.startsWith('--alpha=') || a === '-a') {
      const raw = val(a === '-a' ? '-a' : '--alpha');
      const alpha = Number(raw);
      if (raw === undefined || raw.trim() === '' || !Number.isFinite(alpha)) throw new InvalidArgumentError(`--alpha must be a number; got "${raw}".`);
      const target = pairs.length ? pairs[pairs.length - 1] : null;
      if (!target) throw new InvalidArgumentError('--alpha must follow the --persona it applies to.');
      target.alpha = alpha;
    }
  }
  for (const p of pairs) if (Number.isNaN(p.alpha)) throw new InvalidArgumentError(`--persona ${p.persona} has no --alpha after it.`);
  return pairs;
}

export function runCommand(argv: string[]): Command {
  const cmd = new Command('run')
    .description('generate steered answers for one prompt or a file of prompts (one per line)')
    .option('-p, --persona <file>', 'persona file (repeatable; each followed by its own --alpha)')
    .option('-a, --alpha <alpha>', 'steering strength for the preceding --persona')
    .option('--prompt <text>', 'one request')
    .option('--prompts-file <file>', 'requests, one per line')
    .option('--system <text>', 'system prompt')
    .option('--layer <l>', "decoder layer to steer (default: the persona's recommended layer)", intArg('--layer'))
    .addOption(new Option('--positions <p>', 'positions to steer').choices(POSITIONS as string[]).default('all'))
    .addOption(new Option('--units <u>', 'alpha units: gap (raw difference), unit, resid').choices(UNITS as string[]).default('gap'))
    .option('--max-new-tokens <n>', 'tokens to generate', intArg('--max-new-tokens'), 64)
    .option('--temperature <t>', '0 = greedy', numberArg('--temperature'), 0)
    .option('--top-p <p>', 'nucleus sampling', numberArg('--top-p'))
    .option('--top-k <k>', 'top-k sampling', intArg('--top-k'))
    .option('--seed <n>', 'sampling seed', intArg('--seed'), 0)
    .option('--json', 'one JSON object per line per prompt')
    .addOption(new Option('--thinking <on|off>', "let a thinking model (Qwen3) think first: the chat template's enable_thinking; the thinking goes to stderr (a reasoning field with --json), the answer to stdout").choices(['on', 'off']).default('off'));
  for (const o of modelOptions()) cmd.addOption(o);
  return cmd.action(async (o: RunFlags) => {
    if (!o.prompt && !o.promptsFile) throw new InvalidArgumentError('Give --prompt "…" or --prompts-file FILE.');
    const prompts = o.prompt ? [o.prompt] : (await fs.readFile(o.promptsFile!, 'utf8')).split('\n').map((l) => l.trim()).filter(Boolean);
    if (prompts.length === 0) throw new InvalidArgumentError(`${o.promptsFile} has no prompts.`);
    const pairs = pairPersonasWithAlphas(argv);
    const model = await openModel(o);
    const personas = await Promise.all(pairs.map((p) => loadPersona(p.persona)));
    const specs: SteerSpec[] = personas.map((persona, i) => ({ persona, alpha: pairs[i].alpha, layer: o.layer, positions: o.positions, units: o.units }));
    const intervention = resolveSteering(model, specs);
    const results = await model.generate(
      prompts.map((p) => ({ system: o.system, user: p })),
      { maxNewTokens: o.maxNewTokens, sampling: { temperature: o.temperature, topP: o.topP, topK: o.topK, seed: o.seed }, intervention, thinking: o.thinking === 'on' },
    );
    results.forEach((r, i) => {
      if (o.json) {
        process.stdout.write(
          JSON.stringify({
            prompt: prompts[i],
            text: r.text,
            ...(o.thinking === 'on' ? { reasoning: r.reasoning ?? null } : {}),
            alpha: pairs.length === 1 ? pairs[0].alpha : pairs.map((p) => p.alpha),
            persona: pairs.length === 1 ? personas[0].name : personas.map((p) => p.name),
            layer: o.layer ?? (personas[0]?.meta.recommendedLayer ?? null),
            finishReason: r.finishReason,
            tokens: r.tokens.length,
          }) + '\n',
        );
      } else {
        if (prompts.length > 1) process.stdout.write(`> ${prompts[i]}\n`);
        if (r.reasoning) process.stderr.write(`${process.stderr.isTTY ? '\x1b[2m' : ''}(thinking) ${r.reasoning}${process.stderr.isTTY ? '\x1b[22m' : ''}\n`);
        process.stdout.write(`${r.text}\n`);
      }
    });
    await model.dispose();
  });
}
