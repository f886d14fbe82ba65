import { describe, expect, it } from 'vitest';
import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeControlVectorGguf, encodeControlVectorGguf } from '../../../src/steering/formats/controlVectorGguf.js';
import { parseExportedMeta } from '../../../src/steering/formats/exportedMeta.js';
import { loadPersona } from '../../../src/steering/personaFile.js';
import { resolveSteering } from '../../../src/steering/resolveSteering.js';
import { runCli } from '../../helpers/cli.js';
import { shippedPersona, stylist } from '../../helpers/stylistModel.js';

const PROMPT = 'Thank Sam for the flowers.';
const runText = (personaRef: string, alpha: string) => {
  const r = runCli(['run', '--persona', personaRef, '--alpha', alpha, '--prompt', PROMPT, '--max-new-tokens', '40']);
  expect(r.code, r.err).toBe(0);
  return r.out;
};

describe('exported vector files mean what they say', () => {
  it("a default GGUF export holds the recommended layer only, with the persona's record, and imports back to the same steering", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fidelity-'));
    const formal = await shippedPersona('formal');
    const out = path.join(dir, 'formal.gguf');
    const ex = runCli(['export', 'formal', '--out', out]);
    expect(ex.code, ex.err).toBe(0);
    expect(ex.out).toContain(`llama-cli -m MODEL.gguf --control-vector-scaled ${out} A`);
    const cv = decodeControlVectorGguf(new Uint8Array(await fs.readFile(out)));
    expect([...cv.directions.keys()]).toEqual([formal.meta.recommendedLayer]);
    expect(Array.from(cv.directions.get(formal.meta.recommendedLayer)!)).toEqual(Array.from(formal.layer(formal.meta.recommendedLayer)));
    const record = parseExportedMeta(cv.personaMeta!, out);
    expect(record.meta).toMatchObject({
      name: 'formal',
      recommendedLayer: formal.meta.recommendedLayer,
      alphaRange: formal.meta.alphaRange,
      description: formal.meta.description,
    });
    expect(record.units).toBe('gap');

    const back = path.join(dir, 'back.persona.json');
    const imp = runCli(['import', out, '--out', back]);
    expect(imp.code, imp.err).toBe(0);
    expect(imp.out).toMatch(/the file's own record: layer/);
    const p = await loadPersona(back);
    expect(p.meta.recommendedLayer).toBe(formal.meta.recommendedLayer);
    expect(p.meta.alphaRange).toEqual(formal.meta.alphaRange);
    for (const alpha of ['-4', '3']) expect(runText(back, alpha)).toBe(runText('formal', alpha));

    const all = path.join(dir, 'all.gguf');
    expect(runCli(['export', 'formal', '--all-layers', '--out', all]).code).toBe(0);
    expect([...decodeControlVectorGguf(new Uint8Array(await fs.readFile(all))).directions.keys()]).toEqual([1, 2, 3, 4, 5]);
  });

  it('a persona_vectors export carries a JSON record beside it and imports back to the same layer, range and output', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fidelity-pt-'));
    const out = path.join(dir, 'vivid.pt');
    expect(runCli(['export', 'vivid', '--format', 'pt', '--out', out]).code).toBe(0);
    const record = parseExportedMeta(await fs.readFile(`${out}.json`, 'utf8'), `${out}.json`);
    const vivid = await shippedPersona('vivid');
    expect(record.meta.recommendedLayer).toBe(vivid.meta.recommendedLayer);
    const back = path.join(dir, 'vivid.persona.json');
    expect(runCli(['import', out, '--out', back]).code).toBe(0);
    const p = await loadPersona(back);
    expect(p.meta.recommendedLayer).toBe(vivid.meta.recommendedLayer);
    expect(p.meta.alphaRange).toEqual(vivid.meta.alphaRange);
    expect(runText(back, '4')).toBe(runText('vivid', '4'));
  });

  it('a multi-layer control vector made elsewhere steers every layer it holds, as llama.cpp applies it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fidelity-foreign-'));
    const formal = await shippedPersona('formal');
    const file = path.join(dir, 'repeng.gguf');
    const directions = new Map([2, 3, 4].map((l) => [l, formal.layer(l)] as [number, Float32Array]));
    await fs.writeFile(file, encodeControlVectorGguf({ modelHint: 'qwen3', hiddenSize: 256, directions }));
    const back = path.join(dir, 'repeng.persona.json');
    const imp = runCli(['import', file, '--out', back]);
    expect(imp.code, imp.err).toBe(0);
    expect(imp.out).toMatch(/steers all 3 layers it holds \(2, 3, 4\), as llama\.cpp applies it/);
    const p = await loadPersona(back);
    expect(p.meta.recommendedLayers).toEqual([2, 3, 4]);
    const model = await stylist();
    const gen = async (iv: ReturnType<typeof resolveSteering>) => (await model.generate([PROMPT], { maxNewTokens: 30, intervention: iv }))[0].text;
    expect(await gen(resolveSteering(model, [{ persona: p, alpha: -2 }]))).toBe(
      await gen(resolveSteering(model, [{ persona: formal, alpha: -2, layers: [2, 3, 4] }])),
    );
  });
});
