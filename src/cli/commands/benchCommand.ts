import path from 'node:path';
import { Command } from 'commander';
import { benchCheckpointDir, benchOnePrecision, runBench } from '../../bench/runBench.js';
import { benchContextSweep } from '../../bench/benchEngine.js';
import { convertForBench } from '../../bench/convertForBench.js';
import { parsePrecision } from '../../engine/convert/Precision.js';
import { KV_CACHE_KINDS, type KVCacheKind } from '../../engine/KVCache.js';
import { defaultThreads } from '../../engine/DecoderSession.js';
import { PACKAGE_ROOT } from '../../model/defaultModel.js';
import { progressBar } from '../../util/progress.js';
import { InvalidArgumentError } from '../../errors.js';
import { readJsonFile } from '../../util/readJsonFile.js';
import { intArg } from '../common.js';

interface BenchFlags {
  config: string;
  precision: string;
  threads: number;
  steps: number;
  reps: number;
  rounds?: number;
  contexts: string;
  kvCache: string;
  figuresOnly?: boolean;
  contextsOnly?: boolean;
  convertOnly?: boolean;
  sizes?: string;
  sizePrecision: string;
  vs?: string;
  evaluation?: boolean;
  train?: boolean | string;
  analyzeLayers?: boolean;
  json?: boolean;
  child?: string;
}

export function benchCommand(): Command {
  return new Command('bench')
    .description("measure speed on random weights in a model config's exact shape (default Qwen3-0.6B) against the machine's own bounds, in one run")
    .option('--config <file>', 'config.json giving the shape', path.join(PACKAGE_ROOT, 'data', 'configs', 'qwen3-0.6b.json'))
    .option('--precision <list>', 'comma-separated: f32,q8,q4', 'f32,q4')
    .option('--threads <n>', 'CPU threads', intArg('--threads'), defaultThreads())
    .option('--steps <n>', 'decode steps per measurement', intArg('--steps'), 16)
    .option('--reps <n>', 'repetitions of each prefill measurement (median)', intArg('--reps'), 3)
    .option('--vs <engine>', 'also run the same shape through another engine in the same run: llama.cpp')
    .option(
      '--rounds <n>',
      'with --vs: interleaved rounds (ours, theirs, ours, theirs …) per precision, default 3; each ratio is their median with its range',
      intArg('--rounds'),
    )
    .option('--contexts <list>', 'contexts of the decode sweep (capped by the model\'s positions; prefill too from 4096); "" for none', '128,1024,4096,8192')
    .option(
      '--kv-cache <list>',
      'KV cache kinds, comma-separated (f32, int8): the context sweep runs once per kind, and int8 adds decode through an int8 cache to every measurement (and to the llama.cpp ratios)',
      'f32,int8',
    )
    .option(
      '--sizes <list>',
      'also the model-size sweep: comma-separated config files or shipped shapes (qwen3-0.6b, qwen3-1.7b, qwen3-4b, qwen3-8b), each converted and measured in fresh processes (load, RSS, decode against its bound)',
    )
    .option('--size-precision <p>', 'precision of the size sweep', 'q4')
    .option('--figures-only', '(internal) with --child: only load, RSS, prefill and decode')
    .option('--contexts-only', '(internal) with --child: only the context sweep, in this fresh process')
    .option('--convert-only', '(internal) with --child: only convert the checkpoint, reporting time and peak RSS')
    .option('--evaluation', 'also time an evaluation (5 alphas × 32 questions, scored) against batched decode')
    .option(
      '--train [precisions]',
      'also time one whole train (20 + 20 prompts, 64-token answers, its layer check included) with the share of each phase: at every precision measured, or at the comma-separated ones given (e.g. --train q4)',
    )
    .option(
      '--analyze-layers',
      "with --train: also time analyze-layers on the persona that train made (every layer's separation, the screen and the whole grid)",
    )
    .option('--json', 'print one JSON object')
    .option('--child <boundsJson>', '(internal) measure one precision in this process with the given bounds')
    .action(async (o: BenchFlags) => {
      const raw = (await readJsonFile(o.config, { errorClass: InvalidArgumentError })) as Record<string, unknown>;
      const log = (l: string) => process.stderr.write(`${l}\n`);
      const contexts = o.contexts
        .split(',')
        .filter((x) => x.trim())
        .map((x) => {
          const n = Number(x);
          if (!Number.isInteger(n) || n < 1) throw new Error(`--contexts takes positive integers; got "${x}"`);
          return n;
        });
      const precisions = o.precision.split(',').map((p) => parsePrecision(p.trim()));
      const kvCaches = o.kvCache.split(',').map((k) => k.trim()) as KVCacheKind[];
      const unknown = kvCaches.filter((k) => !KV_CACHE_KINDS.includes(k));
      if (unknown.length || kvCaches.length === 0)
        throw new InvalidArgumentError(`--kv-cache takes a comma-separated list of ${KV_CACHE_KINDS.join(', ')}; got "${o.kvCache}".`);
      if (o.child && o.convertOnly) {
        process.stdout.write(JSON.stringify(await convertForBench(benchCheckpointDir(raw), precisions[0], progressBar(process.stderr))) + '\n');
        return;
      }
      if (o.child && o.contextsOnly) {
        const context_sweep = await benchContextSweep(benchCheckpointDir(raw), precisions[0], {
          threads: o.threads,
          decodeSteps: o.steps,
          reps: o.reps,
          contexts,
          kvCache: kvCaches[0],
          log,
        });
        process.stdout.write(JSON.stringify({ context_sweep }) + '\n');
        return;
      }
      if (o.child) {
        const r = await benchOnePrecision(benchCheckpointDir(raw), precisions[0], JSON.parse(o.child), {
          threads: o.threads,
          decodeSteps: o.steps,
          reps: o.reps,
          figuresOnly: o.figuresOnly,
          int8Cache: kvCaches.includes('int8'),
          evaluation: o.evaluation,
          train: o.train !== undefined,
          analyzeLayers: o.analyzeLayers,
          log,
          onProgress: progressBar(process.stderr),
        });
        process.stdout.write(JSON.stringify(r) + '\n');
        return;
      }
      if (o.vs && o.vs !== 'llama.cpp') throw new Error(`--vs supports llama.cpp only; got ${o.vs}`);
      if (o.rounds !== undefined && !o.vs) throw new Error('--rounds interleaves our engine with another one: it needs --vs llama.cpp.');
      const rounds = o.rounds ?? 3;
      if (rounds < 1) throw new Error(`--rounds must be at least 1; got ${rounds}`);
      // --train alone: every precision measured; --train q4: those listed (each must be measured).
      const trainAt =
        o.train === undefined || o.train === false ? [] : typeof o.train === 'string' ? o.train.split(',').map((p) => parsePrecision(p.trim())) : precisions;
      if (o.analyzeLayers && trainAt.length === 0)
        throw new InvalidArgumentError('--analyze-layers times analyze-layers on the persona a timed train makes: add --train (e.g. --train q4).');
      for (const p of trainAt)
        if (!precisions.includes(p)) throw new InvalidArgumentError(`--train ${p}: ${p} is not among the precisions measured (--precision ${o.precision}).`);
      const sizes =
        o.sizes === undefined
          ? undefined
          : await Promise.all(
              o.sizes
                .split(',')
                .filter((x) => x.trim())
                .map((x) => sizeConfig(x.trim())),
            );
      if (sizes?.length === 0) throw new InvalidArgumentError('--sizes needs at least one config file or shipped shape.');
      const report = await runBench({
        configFile: o.config,
        config: raw,
        precisions,
        threads: o.threads,
        decodeSteps: o.steps,
        reps: o.reps,
        contexts,
        kvCaches,
        evaluation: o.evaluation,
        train: trainAt,
        analyzeLayers: o.analyzeLayers,
        vs: o.vs === 'llama.cpp' ? o.vs : undefined,
        rounds,
        sizes,
        sizePrecision: parsePrecision(o.sizePrecision),
        // The measurement processes are this command again, with --child.
        childCommand: [process.execPath, process.argv[1], 'bench'],
        log,
        progress: () => progressBar(process.stderr),
      });
      const { results } = report;
      if (o.json) {
        process.stdout.write(JSON.stringify(report, null, 1) + '\n');
        return;
      }
      for (const [p, r] of Object.entries(results)) {
        process.stdout.write(
          `${p.padEnd(4)} decode ${r.decode_tok_s.ctx128_b1.toFixed(2)} tok/s (bound ${r.bound_decode_tok_s.toFixed(2)}, ${(r.decode_share_of_bound * 100).toFixed(0)}%)  ` +
            `prefill ${r.prefill_tok_s['128'].toFixed(1)} tok/s (bound ${r.bound_prefill_tok_s.toFixed(1)}, ${(r.prefill_share_of_bound * 100).toFixed(0)}%)  ` +
            `batch8 ×${r.batch8_over_batch1.toFixed(2)}${r.batch8_over_batch1_spread ? ` [${r.batch8_over_batch1_spread.min.toFixed(2)}–${r.batch8_over_batch1_spread.max.toFixed(2)}]` : ''}  steering ${(r.steering_overhead * 100).toFixed(1)}% (rounds ${r.steering_overhead_rounds.map((x) => (x * 100).toFixed(1)).join(', ')}; profile: add ${(r.steering_profile_share.add.median * 100).toFixed(2)}%, clamp ${(r.steering_profile_share.clamp.median * 100).toFixed(1)}%)  RSS ${r.rss_mib.toFixed(0)} MiB\n` +
            `     train answers ${r.train_answer_tok_s.toFixed(1)} tok/s (${r.train_answer_over_decode_b8.toFixed(2)} × batch-8 decode), activations ${r.train_activation_tok_s.toFixed(1)} tok/s (${r.train_activation_over_prefill.toFixed(2)} × prefill)` +
            (r.context_sweep?.length
              ? `\n     context ${r.context_sweep.map((x) => `${x.ctx} (${x.kv_cache} cache): ${x.decode_tok_s.toFixed(1)} tok/s, peak RSS ${x.decode_peak_rss_mib.toFixed(0)} MiB (${x.decode_peak_over_weights_and_cache.toFixed(2)} × weights + KV)${x.prefill_tok_s ? `, prefill ${x.prefill_tok_s.toFixed(0)} tok/s (${x.prefill_over_512!.toFixed(2)} × 512's, peak RSS ${x.prefill_peak_rss_mib!.toFixed(0)} MiB)` : ''}`).join('; ')}`
              : '') +
            (r.train
              ? `\n     train ${r.train.total_s.toFixed(1)} s (${r.train.phases.map((x) => `${x.phase} ${(x.share * 100).toFixed(0)}%`).join(', ')})`
              : '') +
            (r.evaluation
              ? `  evaluation ${r.evaluation.evaluation_tok_s.toFixed(1)} tok/s (${r.evaluation.evaluation_over_decode_b8.toFixed(2)} × batch-8 decode), peak RSS ${r.evaluation.evaluation_peak_rss_mib.toFixed(0)} MiB = ${r.evaluation.evaluation_over_generation_peak_rss.toFixed(2)} × generation's`
              : '') +
            '\n',
        );
      }
      for (const [p, x] of Object.entries(report.ours_over_llama_cpp ?? {})) {
        const f = (k: string) => `${x.ratios[k].median.toFixed(2)}× (${x.ratios[k].min.toFixed(2)}–${x.ratios[k].max.toFixed(2)})`;
        process.stdout.write(
          `${p} vs llama.cpp ${x.theirs}, median of ${rounds} interleaved rounds (range): decode 128 ctx ${f('decode_ctx128')}  1024 ctx ${f('decode_ctx1024')}  prefill 128 ${f('prefill_128')}  512 ${f('prefill_512')}` +
            (x.ratios.decode_ctx128_kv8 ? `  our int8 cache: decode 128 ctx ${f('decode_ctx128_kv8')}  1024 ctx ${f('decode_ctx1024_kv8')}` : '') +
            '\n',
        );
      }
      for (const x of report.size_sweep ?? []) {
        const mib = (v: number) => `${v.toFixed(0)} MiB`;
        process.stdout.write(
          `size ${x.config} (${x.layers} layers × ${x.hidden}) ${x.precision}: ${x.conversion.converted ? `converted in ${x.conversion.seconds.toFixed(0)} s, peak RSS ${mib(x.conversion.peak_rss_mib)}` : 'already converted'}; ` +
            `load ${(x.load_ms / 1000).toFixed(1)} s, weights ${mib(x.weights_mib)}, RSS ${mib(x.rss_after_load_mib)} after load, peak ${mib(x.peak_rss_mib)}; ` +
            `decode ${x.decode_tok_s.ctx128_b1.toFixed(2)} tok/s = ${(x.decode_share_of_bound * 100).toFixed(0)}% of its bound (${x.bound_decode_tok_s.toFixed(1)})\n`,
        );
      }
    });
}

/** A `--sizes` entry: a config file, or the name of a shape shipped in data/configs (e.g. qwen3-4b). */
async function sizeConfig(entry: string): Promise<{ configFile: string; config: Record<string, unknown> }> {
  const shipped = path.join(PACKAGE_ROOT, 'data', 'configs', `${entry}.json`);
  const configFile = /^[\w.-]+$/.test(entry) && !entry.endsWith('.json') ? shipped : entry;
  const config = (await readJsonFile(configFile, { errorClass: InvalidArgumentError })) as Record<string, unknown>;
  return { configFile, config };
}
