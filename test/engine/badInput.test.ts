import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDecoder } from '../../src/engine/openDecoder.js';
import { generateBatch } from '../../src/engine/generate/generateBatch.js';
import { GOLDENS, STYLIST } from '../helpers/paths.js';
import { loadModel } from '../../src/engine/LanguageModel.js';

describe('engine bad input', () => {
  it('rejects a prompt of zero tokens and a context longer than the model allows', async () => {
    const { session } = await openDecoder(path.join(GOLDENS, 'qwen3'));
    const opts = { stopTokenIds: [], padTokenId: 0 };
    await expect(generateBatch(session, [{ promptIds: [], maxNewTokens: 4 }], opts)).rejects.toThrow(/zero tokens/);
    await expect(generateBatch(session, [{ promptIds: new Array(120).fill(3), maxNewTokens: 20 }], opts)).rejects.toThrow(
      /exceeds the model's context of 128 tokens/,
    );
    await session.release();
  });

  it('rebuilds a truncated conversion cache and redoes an interrupted one', async () => {
    const cacheRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-cache-'));
    const first = await openDecoder(path.join(GOLDENS, 'llama'), { cacheRoot });
    await first.session.release();
    const weights = path.join(first.folder, 'weights.bin');
    await fs.truncate(weights, 1000);
    const rebuilt = await openDecoder(path.join(GOLDENS, 'llama'), { cacheRoot }); // with a warning on stderr (test/engine/convertCache.test.ts)
    expect((await fs.stat(weights)).size).toBe(rebuilt.manifest.totalBytes);
    await rebuilt.session.release();
    // an interrupted conversion (no manifest yet) is simply redone
    await fs.rm(path.join(first.folder, 'manifest.json'));
    const again = await openDecoder(path.join(GOLDENS, 'llama'), { cacheRoot });
    expect((await fs.stat(weights)).size).toBe(again.manifest.totalBytes);
    await again.session.release();
  });

  it('says what is missing when a model folder has no tokenizer or an unsupported model type', async () => {
    await expect(loadModel(path.join(GOLDENS, 'qwen3'))).rejects.toThrow(/tokenizer\.json/);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-gpt2-'));
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'model.safetensors']) await fs.copyFile(path.join(STYLIST, f), path.join(dir, f));
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', n_embd: 64 }));
    await expect(loadModel(dir)).rejects.toThrow(/model_type "gpt2" is not supported. Supported model types: qwen3, qwen2, llama, mistral, gemma3_text/);
  });

  it('disposing a model while it generates waits for the forward pass in flight, then refuses new work', async () => {
    const model = await loadModel(STYLIST);
    const long = 'Describe the market square at noon, with every stall and voice. '.repeat(8);
    const running = model.generate(
      Array.from({ length: 8 }, () => long),
      { maxNewTokens: 100 },
    );
    const settled = running.then(
      () => 'finished',
      (err: Error) => err.message,
    );
    await new Promise((r) => setTimeout(r, 30));
    await model.dispose();
    expect(await settled).toMatch(/finished|disposed/);
    await expect(model.generate(['Hello.'], { maxNewTokens: 4 })).rejects.toThrow(/has been disposed; load it again/);
  });
});
