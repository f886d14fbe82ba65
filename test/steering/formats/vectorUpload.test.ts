import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeControlVectorGguf } from '../../../src/steering/formats/controlVectorGguf.js';
import { encodePvSafetensors } from '../../../src/steering/formats/personaVectorsPt.js';
import { loadPersona } from '../../../src/steering/personaFile.js';
import { FIXTURES, PERSONAS } from '../../helpers/paths.js';
import { postJson, startTestServer, type TestServer } from '../../server/serverFixture.js';

const PT = path.join(FIXTURES, 'pt');

describe('POST /v1/personas with a vector file made elsewhere', () => {
  let t: TestServer;
  let url: string;
  beforeAll(async () => {
    t = await startTestServer();
    url = `${t.server.url}/v1/personas`;
  });
  afterAll(async () => {
    await t?.close();
  });
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

  it('takes a persona_vectors .pt written by torch.save, stores it at the middle layer, and steers with it', async () => {
    const file = await fs.readFile(path.join(PT, 'formal_response_avg_diff.pt'));
    const r = await postJson(url, { format: 'pt', file: b64(file), name: 'pvformal' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ id: 'pvformal', recommended_layer: 3 });
    expect(r.body.default_layer_rule).toMatch(/the middle block of 6/);
    const chat = `${t.server.url}/v1/chat/completions`;
    const ask = async (extra: object) =>
      (await postJson(chat, { messages: [{ role: 'user', content: 'Thank Sam for the flowers.' }], max_tokens: 24, temperature: 0, ...extra })).body.choices[0]
        .message.content as string;
    const plain = await ask({});
    const steered = await ask({ persona: 'pvformal', alpha: -8 });
    expect(steered).not.toBe(plain);
    expect(steered).toMatch(/!/); // the casual side: "huge thanks!!"
  });

  it('takes a llama.cpp control vector and a persona_vectors safetensors file', async () => {
    const formal = await loadPersona(path.join(PERSONAS, 'formal.persona.json'));
    const directions = new Map(formal.vectors.map((v, l) => [l, v] as const).filter(([l]) => l > 0));
    const gguf = encodeControlVectorGguf({ modelHint: 'qwen3', hiddenSize: 256, directions });
    const g = await postJson(url, { format: 'gguf', file: b64(gguf), name: 'ggufformal', layer: 2 });
    expect(g.status, JSON.stringify(g.body)).toBe(201);
    expect(g.body).toMatchObject({ id: 'ggufformal', recommended_layer: 2, default_layer_rule: 'the layer given' });
    const st = encodePvSafetensors(formal.vectors);
    const s = await postJson(url, { format: 'pv-safetensors', file: b64(st), name: 'stformal' });
    expect(s.status, JSON.stringify(s.body)).toBe(201);
    const back = await loadPersona(path.join(t.personasDir, 'stformal.persona.json'));
    expect(Array.from(back.vectors[4])).toEqual(Array.from(formal.vectors[4]));
  });

  it('answers 400 with the reason for a pickle that would run code, a damaged file, a vector for another model and bad fields', async () => {
    const evil = await fs.readFile(path.join(PT, 'runs_a_command.pt'));
    const cases: [object, RegExp][] = [
      [{ format: 'pt', file: b64(evil), name: 'evil' }, /global "posix\.system" is not allowed/],
      [
        { format: 'pt', file: b64((await fs.readFile(path.join(PT, 'formal_response_avg_diff.pt'))).subarray(0, 900)), name: 'cut' },
        /not a readable PyTorch zip archive/,
      ],
      [
        { format: 'pt', file: b64(await fs.readFile(path.join(PT, 'layer_list.pt'))), name: 'small' },
        /3 rows \(2 blocks \+ embedding\) but the model has 6 blocks|hidden size 8 but the model's is 256/,
      ],
      [
        {
          format: 'gguf',
          file: b64(encodeControlVectorGguf({ modelHint: 'qwen3', hiddenSize: 64, directions: new Map([[1, new Float32Array(64).fill(1)]]) })),
          name: 'g64',
        },
        /64|hidden size/,
      ],
      [{ format: 'onnx', file: 'AAAA', name: 'x' }, /format must be one of gguf, pt, pv-safetensors/],
      [{ format: 'pt', file: 'not base64!', name: 'x' }, /file must be the vector file, base64-encoded/],
      [{ format: 'pt', file: b64(evil) }, /name is required/],
    ];
    for (const [body, want] of cases) {
      const r = await postJson(url, body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.error.message).toMatch(want);
    }
    const files = await fs.readdir(t.personasDir);
    expect(files.some((f) => f.startsWith('evil') || f.startsWith('cut') || f.startsWith('small'))).toBe(false);
  });
});
