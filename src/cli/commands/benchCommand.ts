import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { benchPrecision, type PrecisionResult } from '../../bench/benchEngine.js';
import { benchEvaluation } from '../../bench/benchEvaluation.js';
import { benchTrain } from '../../bench/benchTrain.js';
import { LLAMA_CPP_TYPE, llamaCppFigures, ourFigures } from '../../bench/compareEngines.js';
import { interleaveRounds, type InterleavedResult } from '../../bench/interleaveRounds.js';
import { runLlamaCppComparison, type LlamaCppComparison } from '../../bench/llamaCpp/runLlamaCppComparison.js';
import { measureMachineBounds, type MachineBounds } from '../../bench/machineBounds.js';
import { writeRandomCheckpoint } from '../../bench/randomCheckpoint.js';
import { personaCacheDir } from '../../util/personaCacheDir.js';
import { parsePrecision, type Precision } from '../../engine/convert/Precision.js';
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
  figuresOnly?: boolean;
  vs?: string;
  evaluation?: boolean;
  train?: boolean;
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
    .option('--figures-only', '(internal) with --child: only load, RSS, prefill and decode')
    .option('--evaluation', 'also time an evaluation (5 alphas × 32 questions, scored) against batched decode')
    .option('--train', 'also time one whole train (20 + 20 prompts, 64-token answers, its layer check included) with the share of each phase')
    .option('--json', 'print one JSON object')
    .option('--child <boundsJson>', '(internal) measure one precision in this process with the given bounds')
    .action(async (o: BenchFlags) => {
      const raw = (await readJsonFile(o.config, { errorClass: InvalidArgumentError })) as Record<string, unknown>;
      const key = createHash('sha256').update(JSON.stringify(raw)).digest('hex').slice(0, 12);
      const dir = path.join(personaCacheDir(), 'bench', `${raw.model_type}-${key}`);
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
      if (o.child) {
        const r: PrecisionResult = await benchPrecision(dir, precisions[0], JSON.parse(o.child), {
          threads: o.threads,
          decodeSteps: o.steps,
          reps: o.reps,
          figuresOnly: o.figuresOnly,
          contexts,
          log,
          onProgress: progressBar(process.stderr),
        });
        if (o.evaluation) {
          log(`${precisions[0]}: evaluation (5 alphas × 32 questions × 48 tokens, scored)…`);
          r.evaluation = await benchEvaluation(dir, precisions[0], o.threads);
          log(
            `${precisions[0]}: evaluation ${r.evaluation.evaluation_tok_s.toFixed(1)} tok/s = ${r.evaluation.evaluation_over_decode_b8.toFixed(2)} × batched decode`,
          );
        }
        if (o.train) {
          log(`${precisions[0]}: train (20 + 20 prompts, 64-token answers, layer check)…`);
          r.train = await benchTrain(dir, precisions[0], o.threads);
          log(`${precisions[0]}: train ${r.train.total_s.toFixed(1)} s: ${r.train.phases.map((x) => `${x.phase} ${(x.share * 100).toFixed(0)}%`).join(', ')}`);
        }
        process.stdout.write(JSON.stringify(r) + '\n');
        return;
      }
      if (o.vs && o.vs !== 'llama.cpp') throw new Error(`--vs supports llama.cpp only; got ${o.vs}`);
      if (o.rounds !== undefined && !o.vs) throw new Error('--rounds interleaves our engine with another one: it needs --vs llama.cpp.');
      const rounds = o.rounds ?? 3;
      if (rounds < 1) throw new Error(`--rounds must be at least 1; got ${rounds}`);
      await writeRandomCheckpoint(dir, raw, { onProgress: progressBar(process.stderr) });
      log(`measuring the machine's bounds (${o.threads} threads)…`);
      const bounds: MachineBounds = await measureMachineBounds(o.threads);
      log(`read bandwidth ${(bounds.readBandwidth / 1e9).toFixed(1)} GB/s, f32 matmul ${(bounds.matmulFlops / 1e9).toFixed(0)} GFLOP/s`);
      // One process per precision and round, so RSS is that precision's own.
      const ours = (p: Precision, figuresOnly: boolean): PrecisionResult => {
        const args = [
          process.argv[1],
          'bench',
          '--config',
          o.config,
          '--precision',
          p,
          '--threads',
          String(o.threads),
          '--steps',
          String(o.steps),
          '--reps',
          String(o.reps),
          '--contexts',
          o.contexts,
        ];
        if (o.evaluation && !figuresOnly) args.push('--evaluation');
        if (o.train && !figuresOnly) args.push('--train');
        if (figuresOnly) args.push('--figures-only');
        const r = spawnSync(process.execPath, [...args, '--child', JSON.stringify(bounds)], {
          stdio: ['ignore', 'pipe', 'inherit'],
          encoding: 'utf8',
          maxBuffer: 1 << 24,
        });
        if (r.status !== 0) throw new Error(`bench of ${p} failed (exit ${r.status})`);
        return JSON.parse(r.stdout.trim().split('\n').pop()!);
      };
      const results: Partial<Record<Precision, PrecisionResult>> = {};
      let vs: LlamaCppComparison | undefined;
      const interleaved: Partial<Record<Precision, InterleavedResult & { theirs: string }>> = {};
      if (!o.vs) {
        for (const p of precisions) results[p] = ours(p, false);
      } else {
        vs = { engine: '', threads: o.threads, results: {}, errors: {} };
        for (const p of precisions) {
          const type = LLAMA_CPP_TYPE[p];
          // Ours, theirs, ours, theirs …: the first round of ours is the full measurement, later ones only the compared figures.
          const run = await interleaveRounds(
            async (round) => {
              log(`round ${round + 1}/${rounds}: ours ${p}`);
              const r = ours(p, round > 0);
              if (round === 0) results[p] = r;
              return ourFigures(r);
            },
            async (round) => {
              log(`round ${round + 1}/${rounds}: llama.cpp ${type}`);
              const c = await runLlamaCppComparison({
                config: raw,
                types: [type],
                threads: o.threads,
                repeats: o.reps,
                decodeTokens: o.steps,
                seed: round + 1,
                workDir: path.join(personaCacheDir(), 'bench'),
                onProgress: progressBar(process.stderr),
              });
              vs!.engine = c.engine;
              const t = c.results[type];
              if (!t) throw new Error(`llama.cpp ${type} failed in round ${round + 1}: ${c.errors[type]}`);
              if (round === 0) vs!.results[type] = t;
              return llamaCppFigures(t);
            },
            rounds,
          );
          interleaved[p] = { theirs: type, ...run };
        }
      }
      const report = {
        machine: {
          cpus: os.cpus()[0]?.model,
          cores: os.availableParallelism?.() ?? os.cpus().length,
          memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
          node: process.version,
          date: new Date().toISOString(),
        },
        shape: { config: path.basename(o.config), model_type: raw.model_type, layers: raw.num_hidden_layers, hidden: raw.hidden_size },
        bounds: { read_bandwidth_GBps: bounds.readBandwidth / 1e9, matmul_GFLOPs: bounds.matmulFlops / 1e9, threads: bounds.threads },
        results,
        ...(vs ? { vs_llama_cpp: vs, rounds, ours_over_llama_cpp: interleaved } : {}),
      };
      if (o.json) {
        process.stdout.write(JSON.stringify(report, null, 1) + '\n');
        return;
      }
      for (const [p, r] of Object.entries(results)) {
        process.stdout.write(
          `${p.padEnd(4)} decode ${r.decode_tok_s.ctx128_b1.toFixed(2)} tok/s (bound ${r.bound_decode_tok_s.toFixed(2)}, ${(r.decode_share_of_bound * 100).toFixed(0)}%)  ` +
            `prefill ${r.prefill_tok_s['128'].toFixed(1)} tok/s (bound ${r.bound_prefill_tok_s.toFixed(1)}, ${(r.prefill_share_of_bound * 100).toFixed(0)}%)  ` +
            `batch8 ×${r.batch8_over_batch1.toFixed(2)}  steering ${(r.steering_overhead * 100).toFixed(1)}% (rounds ${r.steering_overhead_rounds.map((x) => (x * 100).toFixed(1)).join(', ')}; profile: add ${(r.steering_profile_share.add.median * 100).toFixed(2)}%, clamp ${(r.steering_profile_share.clamp.median * 100).toFixed(1)}%)  RSS ${r.rss_mib.toFixed(0)} MiB\n` +
            `     train answers ${r.train_answer_tok_s.toFixed(1)} tok/s (${r.train_answer_over_decode_b8.toFixed(2)} × batch-8 decode), activations ${r.train_activation_tok_s.toFixed(1)} tok/s (${r.train_activation_over_prefill.toFixed(2)} × prefill)` +
            (r.context_sweep?.length
              ? `\n     context ${r.context_sweep.map((x) => `${x.ctx}: ${x.decode_tok_s.toFixed(1)} tok/s, peak RSS ${x.decode_peak_rss_mib.toFixed(0)} MiB (${x.decode_peak_over_weights_and_cache.toFixed(2)} × weights + KV)${x.prefill_tok_s ? `, prefill ${x.prefill_tok_s.toFixed(0)} tok/s (${x.prefill_over_512!.toFixed(2)} × 512's, peak RSS ${x.prefill_peak_rss_mib!.toFixed(0)} MiB)` : ''}`).join('; ')}`
              : '') +
            (r.train
              ? `\n     train ${r.train.total_s.toFixed(1)} s (${r.train.phases.map((x) => `${x.phase} ${(x.share * 100).toFixed(0)}%`).join(', ')})`
              : '') +
            (r.evaluation
              ? `  evaluation ${r.evaluation.evaluation_tok_s.toFixed(1)} tok/s (${r.evaluation.evaluation_over_decode_b8.toFixed(2)} × batch-8 decode)`
              : '') +
            '\n',
        );
      }
      for (const [p, x] of Object.entries(interleaved)) {
        const f = (k: string) => `${x.ratios[k].median.toFixed(2)}× (${x.ratios[k].min.toFixed(2)}–${x.ratios[k].max.toFixed(2)})`;
        process.stdout.write(
          `${p} vs llama.cpp ${x.theirs}, median of ${rounds} interleaved rounds (range): decode 128 ctx ${f('decode_ctx128')}  1024 ctx ${f('decode_ctx1024')}  prefill 128 ${f('prefill_128')}  512 ${f('prefill_512')}\n`,
        );
      }
    });
}
