import type { ChatEngine } from '../../src/chat/ChatController.js';
import type { ChatMessage, Prompt } from '../../src/engine/LanguageModel.js';
import type { RowResult, WorkerRow } from '../../src/engine/worker/protocol.js';
import { PersonaVector } from '../../src/steering/PersonaVector.js';

/** A persona for a 3-layer, hidden-4 model whose layer-l vector is (l+1)·e_l-ish, gap norm known. */
export function fakePersona(
  name = 'formal',
  opts: { numLayers?: number; hiddenSize?: number; recommendedLayer?: number; alphaRange?: [number, number] } = {},
): PersonaVector {
  const L = opts.numLayers ?? 3;
  const H = opts.hiddenSize ?? 4;
  const vectors = Array.from({ length: L }, (_, l) => {
    const v = new Float32Array(H);
    v[l % H] = 2 * (l + 1); // norm 2(l+1)
    return v;
  });
  return new PersonaVector(vectors, {
    name,
    description: `${name} (vs not)`,
    model: { id: 'fake', modelType: 'qwen3', hiddenSize: H, numLayers: L },
    method: 'mean-diff',
    read: 'response-mean',
    recommendedLayer: opts.recommendedLayer ?? 1,
    alphaRange: opts.alphaRange ?? [-8, 8],
    layers: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    toolVersion: '0.0.0',
  });
}

export interface FakeEngine extends ChatEngine {
  /** Every generate call's row. */
  rows: WorkerRow[];
  /** The answer ids given to activations. */
  measured: number[][];
}

/**
 * An engine that answers with fixed words (one token per word, then the end-of-turn token 2),
 * counts one token per word of each message plus 3 per message, and reads a residual whose
 * layer-l value is `residual` along e_l.
 */
export function fakeEngine(opts: { answer?: string | ((row: WorkerRow) => string); context?: number; residual?: number; slow?: boolean } = {}): FakeEngine {
  const rows: WorkerRow[] = [];
  const measured: number[][] = [];
  const words = (s: string) => s.split(/\s+/).filter(Boolean);
  return {
    rows,
    measured,
    info: { id: 'fake', numLayers: 3, hiddenSize: 4, stopTokenIds: [2], config: { maxPositionEmbeddings: opts.context ?? 512, modelType: 'qwen3' } },
    async encode(prompt: Prompt) {
      const msgs = prompt as ChatMessage[];
      return msgs.flatMap((m) => [1, ...words(m.content).map(() => 7), 2, 9]).concat([1, 9]);
    },
    generate(batch: WorkerRow[], o: { signal?: AbortSignal; onToken?: (row: number, text: string, token: number) => void } = {}) {
      return { result: answer(batch, o) };
    },
    async activations(seqs) {
      measured.push(seqs[0].answerIds);
      const r = opts.residual ?? 1;
      return { responseMean: [Array.from({ length: 3 }, (_, l) => Float32Array.from({ length: 4 }, (_, i) => (i === l ? r : 0)))] };
    },
  };

  async function answer(batch: WorkerRow[], o: { signal?: AbortSignal; onToken?: (row: number, text: string, token: number) => void }): Promise<RowResult[]> {
    const row = batch[0];
    rows.push(row);
    const text = typeof opts.answer === 'function' ? opts.answer(row) : (opts.answer ?? 'Dear Sam, kind regards.');
    const pieces = words(text).map((w, i) => (i === 0 ? w : ' ' + w));
    const tokens: number[] = [];
    let shown = '';
    for (const p of pieces.slice(0, row.maxNewTokens ?? 64)) {
      if (opts.slow) await new Promise((r) => setTimeout(r, 5));
      tokens.push(10 + tokens.length);
      if (o.signal?.aborted) return [{ text: shown + p, tokens, promptTokens: 0, finishReason: 'cancelled', ended: false, tokenTexts: [] }];
      shown += p;
      o.onToken?.(0, p, tokens[tokens.length - 1]);
    }
    const ended = tokens.length < (row.maxNewTokens ?? 64);
    if (ended) tokens.push(2);
    return [{ text: shown, tokens, promptTokens: 0, finishReason: ended ? 'eos' : 'length', ended, tokenTexts: [] }];
  }
}
