import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { openDecoder } from '../../src/engine/openDecoder.js';
import { DEBUG_GRAPH } from '../../src/engine/graph/GraphOptions.js';
import { scoreContinuations } from '../helpers/scoreContinuations.js';
import { GOLDENS } from '../helpers/paths.js';

describe('continuation scoring', () => {
  it('equals the log-softmax of full-sequence logits, batched over prompts of different lengths', async () => {
    const dir = path.join(GOLDENS, 'qwen2');
    const { session } = await openDecoder(dir);
    const { session: debug, config } = await openDecoder(dir, { graph: DEBUG_GRAPH });
    const items = [
      { promptIds: [5, 9, 33, 2], answerIds: [17, 250, 8] },
      { promptIds: [44, 45], answerIds: [3, 3, 3, 100, 7] },
    ];
    const got = await scoreContinuations(session, items, { padTokenId: 0 });
    const V = config.vocabSize;
    for (const [i, it] of items.entries()) {
      const ids = [...it.promptIds, ...it.answerIds];
      const T = ids.length;
      const res = await debug.run({ inputIds: ids, batch: 1, seq: T, positions: ids.map((_, t) => t), keyMask: new Uint8Array(T).fill(1) });
      let expected = 0;
      for (let j = 0; j < it.answerIds.length; j++) {
        const row = res.allLogits!.subarray((it.promptIds.length - 1 + j) * V, (it.promptIds.length + j) * V);
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
        expected += row[it.answerIds[j]] - lse;
      }
      expect(got[i].tokens).toBe(it.answerIds.length);
      expect(got[i].sumLogProb).toBeCloseTo(expected, 3);
    }
  });
});
