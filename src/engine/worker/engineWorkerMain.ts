import { parentPort, workerData } from 'node:worker_threads';
import { PersonaError } from '../../errors.js';
import { StreamingDecoder } from '../../model/tokenizer/StreamingDecoder.js';
import { DEFAULTS } from '../defaults.js';
import { answerTokenResiduals } from '../answerTokenResiduals.js';
import { extractActivations } from '../extractActivations.js';
import { loadModel, type LanguageModel } from '../LanguageModel.js';
import type { FromWorker, ToWorker, WorkerInit, WorkerRow } from './protocol.js';

/**
 * The engine's thread: owns the model, queues generation jobs, and runs the rows of every job waiting
 * at that moment as one batch (per-row steering lets mixed alphas share it). Tokens stream back as
 * they are chosen; a cancelled row stops at its next token.
 */
const port = parentPort!;
const init = workerData as WorkerInit;
const send = (m: FromWorker) => port.postMessage(m);

interface Job {
  id: number;
  rows: WorkerRow[];
  logprobs?: number | null;
  cancelled: Set<number>;
  all: boolean;
}

let model: LanguageModel;
const queue: Job[] = [];
const running = new Map<number, Job>();
let busy = false;
let closing = false;

const cancelledResult = () => ({ text: '', tokens: [], promptTokens: 0, finishReason: 'cancelled' as const, ended: false, tokenTexts: [] });

async function pump(): Promise<void> {
  if (busy || closing || queue.length === 0) return;
  busy = true;
  try {
    const maxRows = init.maxBatchRows ?? DEFAULTS.generation.batchSize;
    const batch: Job[] = [];
    let rows = 0;
    while (queue.length && (batch.length === 0 || rows + queue[0].rows.length <= maxRows)) {
      const j = queue.shift()!;
      batch.push(j);
      rows += j.rows.length;
    }
    // Jobs that want logprobs run with them; others pay nothing extra.
    const logprobs = batch.reduce<number | null>((a, j) => (j.logprobs !== undefined && j.logprobs !== null ? Math.max(a ?? 0, j.logprobs) : a), null);
    const owners: { job: Job; row: number }[] = [];
    for (const job of batch) {
      running.set(job.id, job);
      job.rows.forEach((_, row) => owners.push({ job, row }));
    }
    const decoders = owners.map(() => new StreamingDecoder(model.tokenizer, { skipSpecialTokens: true }));
    // Monitored rows: their readings from the generation's own forward calls (no extra pass).
    const counts = owners.map(() => 0);
    const monitored = owners.some((o) => o.job.rows[o.row].monitor?.length);
    const L = model.numLayers;
    const H = model.hiddenSize;
    const onResidual = ({ token, resid }: { token: number; resid: Float32Array }) => {
      owners.forEach((o, b) => {
        const mon = o.job.rows[o.row].monitor;
        if (!mon?.length || o.job.all || o.job.cancelled.has(o.row) || token >= counts[b]) return;
        const values = mon.map(({ layer, direction }) => {
          const h = resid.subarray((b * L + layer) * H, (b * L + layer + 1) * H); // [B,L,1,H] → row b, block layer
          let d = 0;
          for (let i = 0; i < H; i++) d += h[i] * direction[i];
          return d;
        });
        send({ type: 'monitor', id: o.job.id, row: o.row, token, values });
      });
    };
    try {
      const results = await model.generateRows(
        owners.map((o) => o.job.rows[o.row]),
        {
          logprobs,
          onToken: (e) => {
            const o = owners[e.row];
            if (o.job.all || o.job.cancelled.has(o.row)) return true;
            counts[e.row]++;
            send({ type: 'token', id: o.job.id, row: o.row, token: e.token, text: decoders[e.row].push(e.token), logprob: e.logprob });
            return false;
          },
          ...(monitored ? { onResidual } : {}),
        },
      );
      for (const job of batch) {
        const mine = owners.map((o, i) => ({ o, i })).filter(({ o }) => o.job === job);
        send({
          type: 'done',
          id: job.id,
          results: mine.map(({ o, i }) => {
            const r = results[i];
            const cancelled = job.all || job.cancelled.has(o.row);
            return {
              text: r.text,
              tokens: r.tokens,
              promptTokens: r.promptIds.length,
              finishReason: cancelled ? 'cancelled' : r.finishReason,
              ended: r.ended,
              logprobs: r.logprobs,
              topLogprobs: r.topLogprobs?.map((step) => step.map((t) => ({ ...t, token: model.tokenizer.decode([t.id]) }))),
              tokenTexts: r.tokens.map((t) => model.tokenizer.decode([t])),
            };
          }),
        });
      }
    } catch (err) {
      for (const job of batch) send({ type: 'error', id: job.id, message: (err as Error).message, name: (err as Error).name });
    } finally {
      for (const job of batch) running.delete(job.id);
    }
  } finally {
    busy = false;
    if (queue.length) setImmediate(() => void pump());
  }
}

port.on('message', async (m: ToWorker) => {
  try {
    switch (m.type) {
      case 'generate':
        queue.push({ id: m.id, rows: m.rows, logprobs: m.logprobs, cancelled: new Set(), all: false });
        setImmediate(() => void pump());
        break;
      case 'cancel': {
        const job = running.get(m.id) ?? queue.find((j) => j.id === m.id);
        if (!job) break;
        if (m.row === undefined) job.all = true;
        else job.cancelled.add(m.row);
        const qi = queue.indexOf(job);
        if (qi >= 0 && job.all) {
          queue.splice(qi, 1);
          send({ type: 'done', id: job.id, results: job.rows.map(() => cancelledResult()) });
        }
        break;
      }
      case 'activations': {
        const acts = await extractActivations(model, m.seqs);
        send({ type: 'activations', id: m.id, responseMean: acts.responseMean, residNorm: acts.residNorm });
        break;
      }
      case 'tokenResiduals':
        send({ type: 'tokenResiduals', id: m.id, residuals: await answerTokenResiduals(model, m.promptIds, m.answerIds, m.layers) });
        break;
      case 'encode':
        send({ type: 'encoded', id: m.id, ids: model.encodePrompt(m.prompt) });
        break;
      case 'close':
        // Stop every job, let the run in flight finish (dispose waits for it), then say so: the
        // thread must not be terminated under a running onnxruntime call.
        closing = true;
        for (const job of queue.splice(0)) send({ type: 'done', id: job.id, results: job.rows.map(() => cancelledResult()) });
        for (const job of running.values()) job.all = true;
        await model?.dispose();
        send({ type: 'closed' });
        port.close();
        break;
    }
  } catch (err) {
    send({ type: 'error', id: 'id' in m ? m.id : null, message: (err as Error).message, name: err instanceof PersonaError ? err.name : 'Error' });
  }
});

loadModel(init.spec)
  .then((m) => {
    model = m;
    send({
      type: 'ready',
      info: {
        id: m.id,
        dir: m.dir,
        revision: m.revision,
        config: m.config,
        stopTokenIds: m.stopTokenIds,
        numLayers: m.numLayers,
        hiddenSize: m.hiddenSize,
        precision: m.precision,
      },
    });
  })
  .catch((err) => send({ type: 'error', id: null, message: (err as Error).message, name: (err as Error).name }));
