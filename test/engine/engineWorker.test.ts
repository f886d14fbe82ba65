import { describe, expect, it } from 'vitest';
import { EngineWorker } from '../../src/engine/worker/EngineWorker.js';
import { loadModel } from '../../src/engine/LanguageModel.js';
import { STYLIST } from '../helpers/paths.js';

describe('the engine worker', () => {
  it('streams tokens from a worker thread, batches concurrent callers, and matches in-thread generation', async () => {
    const engine = await EngineWorker.start({ model: STYLIST });
    const local = await loadModel(STYLIST);
    try {
      expect(engine.info.numLayers).toBe(6);
      const prompts = ['Thank Ana for the tea.', 'Describe a windy hill.', 'Decline a meeting.'];
      const streamed: string[] = ['', '', ''];
      const all = await Promise.all(
        prompts.map((p, i) => engine.generate([{ prompt: p, maxNewTokens: 20 }], { onToken: (_row, text) => (streamed[i] += text) }).result),
      );
      const expected = await local.generate(prompts, { maxNewTokens: 20 });
      all.forEach(([r], i) => {
        expect(r.text).toBe(expected[i].text);
        expect(streamed[i]).toBe(r.text);
      });
    } finally {
      await engine.close();
      await local.dispose();
    }
  });

  it('cancels a running generation when its signal aborts', async () => {
    const engine = await EngineWorker.start({ model: STYLIST });
    try {
      const ac = new AbortController();
      let n = 0;
      const [r] = await engine.generate([{ prompt: 'Tell a long story.', maxNewTokens: 200, sampling: { temperature: 1, seed: 1 } }], {
        signal: ac.signal,
        onToken: () => {
          if (++n === 3) ac.abort();
        },
      }).result;
      expect(r.finishReason).toBe('cancelled');
      expect(r.tokens.length).toBeLessThan(200);
    } finally {
      await engine.close();
    }
  });

  it("stops one row through the job's handle while the other rows of the job finish", async () => {
    const engine = await EngineWorker.start({ model: STYLIST });
    try {
      let n = 0;
      const job = engine.generate(
        [0, 1].map((seed) => ({ prompt: 'Tell a long story.', maxNewTokens: 60, sampling: { temperature: 1, seed } })),
        { onToken: (row) => row === 0 && ++n === 3 && job.cancel(0) },
      );
      expect(job.id).toBeGreaterThan(0);
      const [stopped, finished] = await job.result;
      expect(stopped.finishReason).toBe('cancelled');
      expect(stopped.tokens.length).toBeLessThan(10);
      expect(finished.finishReason).not.toBe('cancelled');
    } finally {
      await engine.close();
    }
  });

  it('closes while a batch is mid-forward: the process lives on, callers get cancelled results, and later calls are refused', async () => {
    // Terminating the thread under a running onnxruntime call aborted the whole process
    // ("terminate called after throwing an instance of 'Napi::Error'"), first seen on a slower CI machine.
    const long = 'Write a long and detailed letter about the harbour, the boats and the weather. '.repeat(8);
    for (const delayMs of [0, 30, 80, 150]) {
      const engine = await EngineWorker.start({ model: STYLIST });
      const running = engine.generate(
        Array.from({ length: 16 }, (_, i) => ({ prompt: long, maxNewTokens: 150, sampling: { temperature: 1, seed: i } })),
      ).result;
      const queued = engine.generate([{ prompt: 'Hello.', maxNewTokens: 50 }]).result;
      const settled = Promise.allSettled([running, queued]);
      await new Promise((r) => setTimeout(r, delayMs));
      await engine.close();
      const [r, q] = await settled;
      for (const s of [r, q]) {
        expect(s.status).toBe('fulfilled');
        if (s.status === 'fulfilled') expect(s.value.every((row) => row.finishReason === 'cancelled' && row.tokens.length < 150)).toBe(true);
      }
      expect(() => engine.generate([{ prompt: 'Again.' }])).toThrow(/closed/);
    }
  });
});
