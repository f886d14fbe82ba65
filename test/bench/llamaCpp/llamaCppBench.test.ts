import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, PersonaError } from '../../../src/errors.js';
import { benchLlamaCpp, ensureNodeLlamaCpp, llamaCppCacheDir, runLlamaCppComparison, writeRandomGguf } from '../../../src/bench/llamaCpp/index.js';
import { TINY_QWEN3 } from './tinyConfig.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'persona-llamacpp-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** node-llama-cpp is an optional dependency installed on demand (~85 MB from npm), so these run only when asked. */
const withLlamaCpp = process.env.PERSONA_TEST_LLAMA_CPP === '1';

describe('benchLlamaCpp without llama.cpp', () => {
  it('checks its options before loading anything', async () => {
    await expect(benchLlamaCpp({ ggufFile: 'x.gguf', threads: 0, isolate: false })).rejects.toThrow(InvalidArgumentError);
    await expect(benchLlamaCpp({ ggufFile: 'x.gguf', prefillLengths: [], isolate: false })).rejects.toThrow(/prefillLengths/);
    await expect(benchLlamaCpp({ ggufFile: path.join(dir, 'missing.gguf'), isolate: false })).rejects.toThrow(/does not exist/);
  });

  it('says how to install node-llama-cpp when it is missing and installing is not allowed', async () => {
    const empty = path.join(dir, 'empty-cache');
    const err = await ensureNodeLlamaCpp({ cacheDir: empty, install: false }).catch((e: unknown) => e);
    // Where the project itself has node-llama-cpp 3.21.1 this finds it; otherwise a clear error.
    if (err instanceof Error) {
      expect(err).toBeInstanceOf(PersonaError);
      expect(err.message).toMatch(/npm install --no-save node-llama-cpp@3\.21\.1/);
    }
    expect(existsSync(empty)).toBe(false);
  });

  it('keeps the install in the project cache folder', () => {
    expect(llamaCppCacheDir({ PERSONA_CACHE: '/c' } as NodeJS.ProcessEnv)).toBe(path.join('/c', 'llama-cpp'));
  });

  it('refuses unknown weight types before installing or writing anything', async () => {
    await expect(runLlamaCppComparison({ config: TINY_QWEN3, types: ['q3' as never], workDir: dir })).rejects.toThrow(InvalidArgumentError);
  });
});

describe.runIf(withLlamaCpp)('llama.cpp on the tiny GGUF (runs only with PERSONA_TEST_LLAMA_CPP=1; installs node-llama-cpp into the test cache)', () => {
  for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as const) {
    it(`loads the tiny qwen3 ${type} GGUF in llama.cpp and evaluates tokens`, async () => {
      const file = path.join(dir, `tiny-${type}.gguf`);
      await writeRandomGguf(file, TINY_QWEN3, type);
      const r = await benchLlamaCpp({ ggufFile: file, threads: 2, prefillLengths: [8, 32], decodeContexts: [8], decodeTokens: 4, repeats: 1, isolate: false });
      expect(r.prefill_tok_s[8]).toBeGreaterThan(0);
      expect(r.prefill_tok_s[32]).toBeGreaterThan(0);
      expect(r.decode_tok_s[8]).toBeGreaterThan(0);
      expect(r.load_ms).toBeGreaterThan(0);
      expect(r.rss_mib).toBeGreaterThan(10);
      expect(r.setup.node_llama_cpp).toBe('3.21.1');
      expect(r.setup.context_threads).toBe(2);
    });
  }

  it('loads qwen2 (biases) and llama (untied output) GGUFs', async () => {
    for (const [name, config] of [
      ['qwen2', { ...TINY_QWEN3, model_type: 'qwen2', head_dim: undefined }],
      ['llama', { ...TINY_QWEN3, model_type: 'llama', head_dim: undefined, tie_word_embeddings: false }],
    ] as const) {
      const file = path.join(dir, `tiny-${name}.gguf`);
      await writeRandomGguf(file, config, 'q8_0');
      const r = await benchLlamaCpp({ ggufFile: file, prefillLengths: [8], decodeContexts: [8], decodeTokens: 2, repeats: 1, isolate: false });
      expect(r.decode_tok_s[8], name).toBeGreaterThan(0);
    }
  });

  it('runs the comparison for several types and deletes its GGUF files', async () => {
    const work = path.join(dir, 'work');
    const cmp = await runLlamaCppComparison({
      config: TINY_QWEN3,
      types: ['f32', 'q4_0'],
      workDir: work,
      prefillLengths: [16],
      decodeContexts: [16],
      decodeTokens: 3,
      repeats: 1,
      isolate: false,
    });
    expect(cmp.errors).toEqual({});
    expect(Object.keys(cmp.results)).toEqual(['f32', 'q4_0']);
    expect(cmp.results.q4_0!.gguf.bytes).toBeLessThan(cmp.results.f32!.gguf.bytes);
    expect(cmp.results.f32!.decode_tok_s[16]).toBeGreaterThan(0);
    expect(readdirSync(work)).toEqual([]);
  });
});
