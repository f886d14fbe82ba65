import { Command, Option } from 'commander';
import { DEFAULTS } from '../../engine/defaults.js';
import { DEFAULT_MODEL_DIR, DEFAULT_PERSONAS_DIR } from '../../model/defaultModel.js';
import type { CompletionRecord } from '../../server/chatCompletion.js';
import { fetchChatStream, loadMarkdown, runServeLoad, writeLoadSection } from '../../bench/serveLoad.js';
import { isLoopback } from '../../server/createApp.js';
import { startServer } from '../../server/startServer.js';
import { intArg, modelOptions, modelSpecFromFlags, type ModelFlags } from '../common.js';

interface ServeFlags extends ModelFlags {
  personas: string;
  reports: string;
  port: number;
  host: string;
  apiKey?: string;
  maxBatch: number;
  maxQueue: number;
  maxTokens: number;
  quiet?: boolean;
  bench?: boolean;
  out?: string;
  benchRuns: number;
  allowOrigin?: string[];
}

/**
 * `persona serve`: an OpenAI-compatible server with per-request persona steering, persona endpoints
 * and a web page at `/` (see docs/serving.md). `--bench` measures it under load and writes the numbers.
 *
 * @example
 * // persona serve --port 8080                      embedded stylist, shipped personas, http://127.0.0.1:8080
 * // persona serve --model Qwen/Qwen3-0.6B --personas my-personas --api-key secret
 * program.addCommand(serveCommand());
 */
export function serveCommand(): Command {
  const cmd = new Command('serve')
    .description('serve the model over an OpenAI-compatible API with persona steering per request, and a web page with an alpha slider')
    .addOption(
      new Option('--personas <dir>', 'folder of the personas served by name').default(DEFAULT_PERSONAS_DIR, 'the shipped personas of the embedded model'),
    )
    .option('--reports <dir>', 'folder whose HTML reports the web page links to', DEFAULTS.server.reportsDir)
    .option('--port <n>', 'port (0 picks a free one)', intArg('--port'), DEFAULTS.server.port)
    .option('--host <address>', 'address to bind; the default serves this machine only', DEFAULTS.server.host)
    .addOption(new Option('--api-key <key>', 'require "Authorization: Bearer <key>" on the API').env('PERSONA_API_KEY'))
    .addOption(
      new Option(
        '--allow-origin <origins...>',
        'web origins whose pages may call the API (comma- or space-separated; * for a port or subdomain part, or alone for any), as OLLAMA_ORIGINS',
      )
        .env('PERSONA_ALLOW_ORIGINS')
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), ...v.split(/[,\s]+/).filter(Boolean)]),
    )
    .option('--max-batch <n>', 'rows generated together in one batch', intArg('--max-batch'), DEFAULTS.server.maxBatch)
    .option('--max-queue <n>', 'rows that may wait for a batch; more requests get 429', intArg('--max-queue'), DEFAULTS.server.maxQueue)
    .option('--max-tokens <n>', 'largest max_tokens a request may ask (also bounded by the context)', intArg('--max-tokens'), DEFAULTS.server.maxTokens)
    .option('--quiet', 'do not log requests')
    .option(
      '--bench',
      'measure: start on a free port, run 16 streaming clients × 4 requests and a one-at-a-time baseline, print the numbers (and write them to --out), exit',
    )
    .option('--out <file>', 'with --bench: Markdown file the numbers are written into (its load section replaced); without it they are only printed')
    .option('--bench-runs <n>', 'repetitions of the --bench load (the median is tabled)', intArg('--bench-runs'), 3);
  for (const o of modelOptions()) cmd.addOption(o);
  return cmd.action(async (o: ServeFlags) => {
    const log = (l: string) => process.stderr.write(`${l}\n`);
    const records = new Map<string, CompletionRecord>();
    const spec = modelSpecFromFlags(o);
    const embedded = o.model === DEFAULT_MODEL_DIR;
    log(`loading ${embedded ? 'the embedded model' : o.model}…`);
    const server = await startServer({
      ...spec,
      personasDir: o.personas,
      reportsDir: o.reports,
      host: o.host,
      port: o.bench ? 0 : o.port,
      apiKey: o.apiKey,
      allowOrigins: o.allowOrigin,
      maxBatch: o.maxBatch,
      maxQueue: o.maxQueue,
      maxTokens: o.maxTokens,
      log: o.quiet || o.bench ? undefined : log,
      onCompletion: o.bench ? (r) => records.set(r.id, r) : undefined,
    });
    if (o.bench) {
      try {
        const { personas } = await server.personas.list();
        const p = personas.find((x) => x.fits_model);
        const steering = p ? [{}, { persona: p.id, alpha: p.alpha_range[1] / 2 }, { persona: p.id, alpha: p.alpha_range[0] / 2 }] : [];
        log(`measuring ${server.url}, ${o.benchRuns} runs: 16 requests one at a time around 16 concurrent streaming clients × 4 requests…`);
        const runs = [];
        for (let i = 0; i < o.benchRuns; i++) {
          const r = await runServeLoad({ stream: fetchChatStream(server.url, o.apiKey), steering });
          log(
            `run ${i + 1}: one at a time ${r.sequential.tokensPerSecond.toFixed(0)} tok/s, concurrent ${r.batched.tokensPerSecond.toFixed(0)} tok/s, ${r.speedup.toFixed(2)} ×`,
          );
          runs.push(r);
        }
        const all = runs.flatMap((r) => [...r.records.sequential, ...r.records.batched]);
        const bad = all.filter((r) => r.problems.length || records.get(r.id)?.choices[0].text !== r.text);
        const checked =
          bad.length === 0
            ? `All ${all.length} streams were well formed and each one's pieces joined to the text the server generated for it.`
            : `${bad.length} of ${all.length} streams were malformed or did not match the server's text.`;
        const md = loadMarkdown(runs, { model: server.engine.info.id, precision: server.engine.info.precision, threads: server.threads, checked });
        process.stdout.write(md.split('\n').slice(1, -1).join('\n') + '\n');
        if (o.out) {
          await writeLoadSection(o.out, md);
          log(`written to ${o.out}`);
        }
        if (bad.length) process.exitCode = 1;
      } finally {
        await server.close();
      }
      return;
    }
    const { personas } = await server.personas.list();
    log(`serving ${server.engine.info.id} at ${server.url}  (web page: ${server.url}/, API: ${server.url}/v1)`);
    log(
      `personas in ${o.personas}: ${personas.map((p) => (p.steering_verdict === 'does-not-steer' ? `${p.id} (does not measurably steer this model)` : p.id)).join(', ') || 'none'}`,
    );
    if (o.allowOrigin?.length) log(`web pages of ${o.allowOrigin.join(', ')} may call the API`);
    if (!isLoopback(o.host) && !o.apiKey)
      log(`warning: listening on ${o.host} without --api-key; anyone who can reach this address can use the model and upload personas.`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    log('stopping…');
    await server.close();
  });
}
