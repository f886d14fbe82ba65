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
      const all = await Promise.all(prompts.map((p, i) => engine.generate([{ prompt: p, maxNewTokens: 20 }], { onToken: (_row, text) => (streamed[i] += text) })));
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
      });
      expect(r.finishReason).toBe('cancelled');
      expect(r.tokens.length).toBeLessThan(200);
    } finally {
      await engine.close();
    }
  });
});
