import { Command, Option } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { POSITIONS, type Positions } from '../../engine/generate/Intervention.js';
import { loadPersona } from '../../steering/personaFile.js';
import { readPromptFile } from '../../persona/prompts/readPromptFile.js';
import { OPERATORS, resolveSteering, specLayers, UNITS, type Operator, type SteerSpec, type Units } from '../../steering/resolveSteering.js';
import { steeringWarning } from '../../steering/steeringWarning.js';
import { intArg, layersArg, modelOptions, numberArg, openModel, type ModelFlags } from '../common.js';

interface RunFlags extends ModelFlags {
  prompt?: string;
  promptsFile?: string;
  system?: string;
  layer?: number;
  layers?: number[];
  operator: Operator;
  cap?: number;
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

/** The --persona values in argv order, for operators that take no alpha (an --alpha there is an error). */
function personasWithoutAlpha(argv: string[], operator: string): { persona: string; alpha: number }[] {
  if (argv.some((a) => a === '--alpha' || a === '-a' || a.startsWith('--alpha=')))
    throw new InvalidArgumentError(`--operator ${operator} takes no --alpha; use --operator ablate-add to remove the direction and add alpha·v.`);
  const out: { persona: string; alpha: number }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--persona' || a === '-p') out.push({ persona: argv[++i], alpha: 0 });
    else if (a.startsWith('--persona=')) out.push({ persona: a.slice('--persona='.length), alpha: 0 });
  }
  return out;
}

export function runCommand(argv: string[]): Command {
  const cmd = new Command('run')
    .description('generate steered answers for one prompt or a file of prompts (one per line)')
    .option(
      '-p, --persona <name|file>',
      "persona name (formal, vivid, …) or file (repeatable; each followed by its own --alpha). A persona whose file records the steering check's does-not-steer verdict steers anyway, with a one-line warning on stderr",
    )
    .option('-a, --alpha <alpha>', 'steering strength for the preceding --persona')
    .option('--prompt <text>', 'one request')
    .option('--prompts-file <file>', 'requests: one per line, or JSONL with `user` and optional `system` fields')
    .option('--system <text>', 'system prompt (for prompts that carry none)')
    .option('--layer <l>', "decoder layer to steer (default: each persona's recommended layer; negative counts from the end)", intArg('--layer'))
    .option('--layers <list>', 'several layers, e.g. 2-5 or 2,3,5 (instead of --layer)', layersArg('--layers'))
    .addOption(
      new Option('--operator <op>', 'add alpha·v, ablate the direction, cap its projection, or ablate then add (ablate-add)')
        .choices(OPERATORS as string[])
        .default('add'),
    )
    .option('--cap <c>', 'for --operator cap: the largest projection allowed on the unit vector', numberArg('--cap'))
    .addOption(
      new Option(
        '--positions <p>',
        'where to steer: all; response (the last prompt position, which predicts the first answer token, and every answer token); prompt (the positions before it)',
      )
        .choices(POSITIONS as string[])
        .default('all'),
    )
    .addOption(new Option('--units <u>', 'alpha units: gap (raw difference), unit, resid').choices(UNITS as string[]).default('gap'))
    .option('--max-new-tokens <n>', 'tokens to generate', intArg('--max-new-tokens'), 64)
    .option('--temperature <t>', '0 = greedy', numberArg('--temperature'), 0)
    .option('--top-p <p>', 'nucleus sampling', numberArg('--top-p'))
    .option('--top-k <k>', 'top-k sampling', intArg('--top-k'))
    .option('--seed <n>', 'sampling seed', intArg('--seed'), 0)
    .option('--json', 'one JSON object per line per prompt')
    .addOption(
      new Option(
        '--thinking <on|off>',
        "let a thinking model (Qwen3) think first: the chat template's enable_thinking; the thinking goes to stderr (a reasoning field with --json), the answer to stdout",
      )
        .choices(['on', 'off'])
        .default('off'),
    );
  for (const o of modelOptions()) cmd.addOption(o);
  return cmd.action(async (o: RunFlags) => {
    if (!o.prompt && !o.promptsFile) throw new InvalidArgumentError('Give --prompt "…" or --prompts-file FILE.');
    if (o.prompt && o.promptsFile) throw new InvalidArgumentError('Give --prompt or --prompts-file, not both.');
    if (o.layer !== undefined && o.layers) throw new InvalidArgumentError('Give --layer or --layers, not both.');
    const requests = o.prompt ? [{ user: o.prompt }] : await readPromptFile(o.promptsFile!);
    const prompts = requests.map((r) => r.user);
    const takesAlpha = o.operator === 'add' || o.operator === 'ablate-add';
    const pairs = takesAlpha ? pairPersonasWithAlphas(argv) : personasWithoutAlpha(argv, o.operator);
    const personas = await Promise.all(pairs.map((p) => loadPersona(p.persona)));
    for (const w of new Set(personas.map((p) => steeringWarning(p)))) if (w) process.stderr.write(`warning: ${w}\n`);
    const model = await openModel(o);
    const specs: SteerSpec[] = personas.map((persona, i) => ({
      persona,
      alpha: takesAlpha ? pairs[i].alpha : undefined,
      layer: o.layer,
      layers: o.layers,
      operator: o.operator,
      cap: o.cap,
      positions: o.positions,
      units: o.units,
    }));
    const intervention = resolveSteering(model, specs);
    const steering = specs.map((s, i) => ({
      persona: personas[i].name,
      alpha: s.alpha ?? null,
      layers: specLayers(s, model.numLayers),
      operator: s.operator,
      positions: s.positions,
      units: s.units,
    }));
    const results = await model.generate(
      requests.map((r) => ({ system: r.system ?? o.system, user: r.user })),
      {
        maxNewTokens: o.maxNewTokens,
        sampling: { temperature: o.temperature, topP: o.topP, topK: o.topK, seed: o.seed },
        intervention,
        thinking: o.thinking === 'on',
      },
    );
    results.forEach((r, i) => {
      if (o.json) {
        process.stdout.write(
          JSON.stringify({
            prompt: prompts[i],
            text: r.text,
            ...(o.thinking === 'on' ? { reasoning: r.reasoning ?? null } : {}),
            alpha: steering.length === 1 ? steering[0].alpha : steering.map((p) => p.alpha),
            persona: steering.length === 1 ? steering[0].persona : steering.map((p) => p.persona),
            layer: steering.length === 1 ? steering[0].layers[0] : steering.map((p) => p.layers[0]),
            steering,
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
