import { createHash } from 'node:crypto';
import type { LanguageModel } from '../../engine/LanguageModel.js';
import { InvalidArgumentError, PersonaError } from '../../errors.js';
import { dot } from '../../util/numerics.js';
import { answerTokens } from '../../persona/computePersonaVector.js';
import { extractActivations } from '../../engine/extractActivations.js';
import type { ProgressCallback } from '../../util/progress.js';
import { monitorDirections, MONITOR_UNIT, type MonitorTarget } from '../monitor/monitorProjections.js';
import { readChatJsonl, type ChatSample } from '../monitor/readChatJsonl.js';
import { ScreenCheckpoint, type ScreenRecord } from './ScreenCheckpoint.js';
import { DEFAULTS } from '../../engine/defaults.js';

/** Options of {@link screenDataset}. */
export interface ScreenOptions {
  /** JSONL of (prompt, response) samples, read line by line (see `readChatJsonl` for the layouts). */
  dataset: string;
  targets: MonitorTarget[];
  /** The progress file: finished samples are appended batch by batch and skipped when the run is started again. */
  checkpoint: string;
  /** Samples per generation batch (default 16). */
  batchSize?: number;
  /** Length of the model's own answers (default 64 tokens). */
  maxNewTokens?: number;
  /** Sampling temperature of the model's own answers (default 0: greedy). */
  temperature?: number;
  /** With temperature > 0, sample i is drawn with seed + its line number, so a resumed run draws what an uninterrupted one would. */
  seed?: number;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/** What a run did: how many samples it found finished in the checkpoint and how many it read now. */
export interface ScreenRunStats {
  total: number;
  resumed: number;
  screened: number;
  /** Where the records are: read them with `ScreenCheckpoint.records`. */
  checkpoint: string;
}

/**
 * The settings a checkpoint belongs to; a checkpoint made with other settings is refused instead of
 * mixing numbers.
 */
export function screenFingerprint(model: LanguageModel, o: ScreenOptions, dirs: { name: string; layer: number; dir: Float32Array }[]): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify({
      model: model.config.modelType,
      L: model.numLayers,
      H: model.hiddenSize,
      maxNewTokens: o.maxNewTokens ?? DEFAULTS.screen.maxNewTokens,
      temperature: o.temperature ?? DEFAULTS.screen.temperature,
      seed: o.seed ?? DEFAULTS.screen.seed,
    }),
  );
  for (const d of dirs) h.update(`${d.name}@${d.layer}:`).update(new Uint8Array(d.dir.buffer, d.dir.byteOffset, d.dir.byteLength));
  return h.digest('hex').slice(0, 32);
}

/**
 * Dataset screening with persona vectors (Chen et al. 2025, §5, "projection difference"): for each
 * (prompt, response) sample, the mean projection of the dataset's response on each persona at its
 * layer minus that of the model's own answer to the same prompt. A large positive difference marks
 * a sample that would push the model towards the persona if it were fine-tuned on.
 *
 * Streams the dataset (one batch of samples in memory at a time), generates the model's answers
 * batched, reads both responses' activations in one pass per batch, and appends each finished batch
 * to the checkpoint (fsynced), so a killed run started again skips what is done. Every record holds
 * numbers and the model's answer only; texts are read back from the dataset for the report.
 *
 * @example
 * const stats = await screenDataset(model, { dataset: 'train.jsonl', targets: [{ persona: evil }], checkpoint: 'out/screen.checkpoint.jsonl' });
 * const records = await new ScreenCheckpoint(stats.checkpoint).records();
 */
export async function screenDataset(model: LanguageModel, o: ScreenOptions): Promise<ScreenRunStats> {
  const dirs = monitorDirections(model, o.targets);
  const bs = o.batchSize ?? DEFAULTS.screen.batchSize;
  if (!(Number.isInteger(bs) && bs >= 1)) throw new InvalidArgumentError(`batchSize must be a positive integer; got ${bs}.`);
  const ckpt = new ScreenCheckpoint(o.checkpoint);
  const done = await ckpt.open({
    fingerprint: screenFingerprint(model, o, dirs),
    dataset: o.dataset,
    personas: dirs.map((d) => ({ name: d.name, layer: d.layer })),
    unit: MONITOR_UNIT,
  });
  let total = 0;
  for await (const s of readChatJsonl(o.dataset)) {
    if (s.response === undefined)
      throw new InvalidArgumentError(`${o.dataset}:${s.line}: a screened sample needs a response (an "assistant" field or a final assistant message).`);
    total++;
  }
  const resumed = done.size;
  let finished = 0;
  let screened = 0;
  let reported = -1;
  const report = () => {
    reported = finished;
    o.onProgress?.({ phase: 'screen', done: finished, total, unit: 'samples' });
  };
  let batch: ChatSample[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    if (o.signal?.aborted) throw new PersonaError(`Interrupted; ${finished} of ${total} samples are in ${o.checkpoint}. Run the same command again to resume.`);
    await ckpt.append(await screenBatch(model, batch, dirs, o));
    screened += batch.length;
    finished += batch.length;
    batch = [];
    report();
  };
  for await (const s of readChatJsonl(o.dataset)) {
    if (done.has(s.line)) {
      finished++;
      continue;
    }
    batch.push(s);
    if (batch.length === bs) await flush();
  }
  await flush();
  if (reported !== finished) report(); // samples skipped after the last batch, or all of them
  return { total, resumed, screened, checkpoint: o.checkpoint };
}

async function screenBatch(
  model: LanguageModel,
  batch: ChatSample[],
  dirs: { name: string; layer: number; dir: Float32Array }[],
  o: ScreenOptions,
): Promise<ScreenRecord[]> {
  const temperature = o.temperature ?? DEFAULTS.screen.temperature;
  const own = await model.generateRows(
    batch.map((s) => ({
      prompt: s.messages,
      maxNewTokens: o.maxNewTokens ?? DEFAULTS.screen.maxNewTokens,
      sampling: temperature > 0 ? { temperature, seed: (o.seed ?? DEFAULTS.screen.seed) + s.line } : undefined,
    })),
    { signal: o.signal, ignoreHooks: true },
  );
  const seqs = batch.flatMap((s, i) => {
    const promptIds = own[i].promptIds;
    return [
      { promptIds, answerIds: answerTokens(model.tokenizer.encode(s.response!), model.stopTokenIds) },
      { promptIds, answerIds: answerTokens(own[i].tokens, model.stopTokenIds) },
    ];
  });
  const acts = await extractActivations(model, seqs, { batchSize: 2 * batch.length, signal: o.signal });
  return batch.map((s, i) => {
    const data = acts.responseMean[2 * i];
    const mine = acts.responseMean[2 * i + 1];
    return {
      line: s.line,
      ...(s.id !== undefined ? { id: s.id } : {}),
      dataset: dirs.map((d) => dot(data[d.layer], d.dir)),
      generated: dirs.map((d) => dot(mine[d.layer], d.dir)),
      answer: own[i].text,
    };
  });
}
