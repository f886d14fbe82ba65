import { Command, Option } from 'commander';
import type { ChatMessage } from '../../engine/LanguageModel.js';
import { InvalidArgumentError } from '../../errors.js';
import { calibrateMonitor, calibrationPlot } from '../../eval/monitor/calibrateMonitor.js';
import { monitorCsv, monitorJson, monitorPlot, monitorTable, type LabelledMonitorRow } from '../../eval/monitor/formatMonitor.js';
import { monitorProjections } from '../../eval/monitor/monitorProjections.js';
import { readChatJsonl, type ChatSample } from '../../eval/monitor/readChatJsonl.js';
import { loadMarkersScorer, scoreMarkers } from '../../eval/scorers/markersScorer.js';
import { loadPersona } from '../../steering/personaFile.js';
import { atomicWrite } from '../../util/atomicWrite.js';
import { intArg, modelOptions, numberArg, openModel, type ModelFlags } from '../common.js';
import { DEFAULTS } from '../../engine/defaults.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface MonitorFlags extends ModelFlags {
  persona: string[];
  layer?: number;
  input: string[];
  prompt: string[];
  system?: string;
  format: 'table' | 'json' | 'csv';
  out?: string;
  plot?: string;
  calibrate?: boolean;
  markers?: string;
  metric?: string;
  maxNewTokens: number;
  temperature: number;
  seed: number;
  batchSize: number;
}

/**
 * `persona monitor`: the projection of the last prompt token (and the mean over a given response)
 * on each persona at its layer, for prompts or chat transcripts; `--calibrate` measures how well the
 * prompt-end projection predicts the trait score of the model's answer.
 */
export function monitorCommand(): Command {
  const cmd = new Command('monitor')
    .description(
      "project prompts (and responses) on persona directions before the model answers; --calibrate checks the projection predicts the answer's trait",
    )
    .option('-p, --persona <file>', 'persona file (repeatable)', collect, [])
    .option('--layer <l>', "block to read every persona at (default: each persona's recommended layer)", intArg('--layer'))
    .option(
      '-i, --input <file>',
      'JSONL: {"messages": [...]} (a final assistant message is the response) or {"system"?, "user", "assistant"?} (repeatable)',
      collect,
      [],
    )
    .option('--prompt <text>', 'a user prompt (repeatable)', collect, [])
    .option('--system <text>', 'system prompt for every --prompt')
    .addOption(new Option('--format <f>', 'output').choices(['table', 'json', 'csv']).default('table'))
    .option('-o, --out <file>', 'write the output here instead of stdout')
    .option('--plot <file.svg>', 'bar chart of the projections (with --calibrate: the calibration scatter plot)')
    .option('--calibrate', 'generate an answer to each prompt, score it with --markers and correlate with the prompt-end projection')
    .option('--markers <file>', 'marker-list JSON scoring the answers (e.g. models/stylist/style_markers.json)')
    .option('--metric <name>', 'the marker axis or list to correlate with (e.g. formality)')
    .option('--max-new-tokens <n>', 'answer length for --calibrate', intArg('--max-new-tokens'), DEFAULTS.calibrate.maxNewTokens)
    .option('--temperature <t>', 'sampling temperature for --calibrate', numberArg('--temperature'), DEFAULTS.calibrate.temperature)
    .option('--seed <n>', 'seed for --calibrate (answers and bootstrap)', intArg('--seed'), DEFAULTS.calibrate.seed)
    .option('--batch-size <n>', 'rows per forward batch', intArg('--batch-size'), DEFAULTS.calibrate.batchSize);
  for (const opt of modelOptions()) cmd.addOption(opt);
  return cmd.action(async (o: MonitorFlags) => {
    if (o.persona.length === 0) throw new InvalidArgumentError('persona monitor needs at least one --persona.');
    const samples: (ChatSample & { file?: string })[] = [];
    for (const file of o.input) for await (const s of readChatJsonl(file)) samples.push({ ...s, file });
    o.prompt.forEach((text, i) => {
      const messages: ChatMessage[] = [...(o.system ? [{ role: 'system' as const, content: o.system }] : []), { role: 'user', content: text }];
      samples.push({ line: i + 1, id: `prompt ${i + 1}`, messages });
    });
    if (o.system && o.prompt.length === 0)
      throw new InvalidArgumentError('--system applies to --prompt; give at least one --prompt (or put system prompts in the --input file).');
    if (samples.length === 0) throw new InvalidArgumentError('Nothing to monitor: give --input <file.jsonl> or --prompt <text>.');
    const personas = await Promise.all(o.persona.map((f) => loadPersona(f)));
    const model = await openModel(o);
    try {
      if (o.calibrate) return await calibrate(o, model, personas, samples);
      if (o.markers || o.metric) throw new InvalidArgumentError('--markers and --metric are used by --calibrate only.');
      const rows = await monitorProjections(
        model,
        samples.map((s) => ({ messages: s.messages, response: s.response })),
        personas.map((persona) => ({ persona, layer: o.layer })),
        { batchSize: o.batchSize },
      );
      const multi = o.input.length > 1;
      const labelled: LabelledMonitorRow[] = rows.map((r, i) => {
        const s = samples[i];
        const label = s.file ? (s.id ?? `${multi ? `${s.file}:` : 'line '}${s.line}`) : (s.id ?? String(i + 1));
        return { label, line: s.file ? s.line : undefined, id: s.id, prompt: s.messages[s.messages.length - 1].content, ...r };
      });
      const text = o.format === 'json' ? monitorJson(labelled) : o.format === 'csv' ? monitorCsv(labelled) : monitorTable(labelled);
      if (o.out) {
        await atomicWrite(o.out, text);
        process.stderr.write(`wrote ${o.out}\n`);
      } else process.stdout.write(text);
      if (o.plot) {
        await atomicWrite(o.plot, monitorPlot(labelled));
        process.stderr.write(`wrote ${o.plot}\n`);
      }
    } finally {
      await model.dispose();
    }
  });
}

async function calibrate(
  o: MonitorFlags,
  model: Awaited<ReturnType<typeof openModel>>,
  personas: Awaited<ReturnType<typeof loadPersona>>[],
  samples: ChatSample[],
): Promise<void> {
  if (personas.length !== 1) throw new InvalidArgumentError('--calibrate takes exactly one --persona.');
  if (!o.markers || !o.metric) throw new InvalidArgumentError('--calibrate needs --markers <file> and --metric <name> to score the answers.');
  if (o.format === 'csv') throw new InvalidArgumentError('--calibrate writes JSON (--format json) or a summary table; not CSV.');
  const scorer = await loadMarkersScorer(o.markers);
  if (!scorer.metrics.includes(o.metric)) throw new InvalidArgumentError(`--metric ${o.metric} is not in ${o.markers} (it has ${scorer.metrics.join(', ')}).`);
  if (samples.some((s) => s.response !== undefined))
    throw new InvalidArgumentError('--calibrate generates the answers itself: give prompts without responses.');
  const metric = o.metric;
  const r = await calibrateMonitor(model, {
    target: { persona: personas[0], layer: o.layer },
    prompts: samples.map((s) => s.messages),
    score: (answer) => scoreMarkers(scorer.spec, answer)[metric],
    metric,
    maxNewTokens: o.maxNewTokens,
    temperature: o.temperature,
    seed: o.seed,
    batchSize: o.batchSize,
  });
  const f = (x: number) => x.toFixed(3);
  const summary =
    [
      `${r.persona} at layer ${r.layer}, ${r.n} prompts: prompt-end projection vs ${r.metric} of the answer`,
      `  Pearson r over answers        ${f(r.pearson.estimate)}  [${f(r.pearson.lo)}, ${f(r.pearson.hi)}] (95% bootstrap)`,
      `  Pearson r over system means   ${f(r.systemPearson.estimate)}  [${f(r.systemPearson.lo)}, ${f(r.systemPearson.hi)}]`,
      ...r.systems.map((s) => `  ${s.system.padEnd(60).slice(0, 60)}  n=${s.n}  projection ${f(s.projection)}  ${r.metric} ${f(s.score)}`),
      '  the same answers, projection read at each layer:',
      ...r.byLayer.map(
        (b) =>
          `  layer ${b.layer}${b.layer === r.layer ? '*' : ' '}  r ${f(b.pearson.estimate)} [${f(b.pearson.lo)}, ${f(b.pearson.hi)}]   system means r ${f(b.systemPearson.estimate)} [${f(b.systemPearson.lo)}, ${f(b.systemPearson.hi)}]`,
      ),
      `  (projection in ${r.unit})`,
    ].join('\n') + '\n';
  const text = o.format === 'json' ? JSON.stringify({ object: 'persona.monitor.calibration', ...r }, null, 1) + '\n' : summary;
  if (o.out) {
    await atomicWrite(o.out, text);
    process.stderr.write(`wrote ${o.out}\n`);
    if (o.format !== 'json') process.stdout.write(summary);
  } else process.stdout.write(text);
  if (o.plot) {
    await atomicWrite(o.plot, calibrationPlot(r));
    process.stderr.write(`wrote ${o.plot}\n`);
  }
}
