import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PersonaFileError } from '../../../src/errors.js';
import { seededRandom } from '../../../src/util/random.js';
import { decodePvPt, encodePvPt, readPvFile, readPvPt, writePvPt } from '../../../src/steering/formats/personaVectorsPt.js';
import { PtTensor, TorchPtError, decodeTorchPt, encodeTorchPt, readTorchPt, readZip, writeZip, type PtValue } from '../../../src/steering/formats/pt/index.js';
import { FIXTURES } from '../../helpers/paths.js';

const PT = path.join(FIXTURES, 'pt');
type Shown = { shape: number[]; dtype: string; data: number[] } | Shown[] | { [k: string]: Shown } | null | boolean | number | string;

/** The same plain form scripts/make-pt-fixture.py writes into expected.json. */
function show(v: PtValue): Shown {
  if (v instanceof PtTensor) return { shape: v.shape, dtype: v.dtype, data: Array.from(v.data) };
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), show(x)]));
  if (Array.isArray(v)) return v.map(show);
  return v;
}

async function expected(): Promise<Record<string, Shown>> {
  return JSON.parse(await fs.readFile(path.join(PT, 'expected.json'), 'utf8'));
}

/** Rebuilds a torch archive with its data.pkl replaced (CRCs recomputed, so only the pickle is bad). */
function withPickle(archive: Uint8Array, pkl: Uint8Array): Uint8Array {
  return writeZip(readZip(archive, 'fixture').map((e) => (e.name.endsWith('/data.pkl') ? { name: e.name, data: pkl } : e)));
}

function pickleOf(archive: Uint8Array): Uint8Array {
  return readZip(archive, 'fixture').find((e) => e.name.endsWith('/data.pkl'))!.data;
}

const latin1 = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

describe('PyTorch .pt files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'torchpt-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('reads every fixture written by torch.save exactly (float32, float16, bfloat16, float64, strided views, dicts, lists)', async () => {
    const want = await expected();
    for (const f of ['formal_response_avg_diff.pt', 'mixed_dict.pt', 'layer_list.pt']) {
      expect(show(await readTorchPt(path.join(PT, f))), f).toEqual(want[f]);
    }
  });

  it("reads persona_vectors' [L+1, H] tensor as per-block vectors, row l+1 being block l", async () => {
    const want = (await expected())['formal_response_avg_diff.pt'] as { data: number[] };
    const pv = await readPvPt(path.join(PT, 'formal_response_avg_diff.pt'), { hiddenSize: 256, numLayers: 6 });
    expect(pv.numLayers).toBe(6);
    expect(pv.hiddenSize).toBe(256);
    for (let l = 0; l < 6; l++) expect(Array.from(pv.vectors[l])).toEqual(want.data.slice((l + 1) * 256, (l + 2) * 256));
    await expect(readPvPt(path.join(PT, 'formal_response_avg_diff.pt'), { hiddenSize: 256, numLayers: 28 })).rejects.toThrow(
      /7 rows \(6 blocks \+ embedding\) but the model has 28 blocks/,
    );
    await expect(readPvFile(path.join(PT, 'formal_response_avg_diff.pt'), { hiddenSize: 1024 })).rejects.toThrow(/hidden size 256 but the model's is 1024/);
  });

  it('writes vectors that our reader reads back exactly, in the zip layout torch.load expects', async () => {
    const rnd = seededRandom(7);
    const vectors = Array.from({ length: 5 }, () => Float32Array.from({ length: 33 }, () => (rnd() - 0.5) * 1e3));
    const file = path.join(dir, 'trait_response_avg_diff.pt');
    await writePvPt(file, vectors);
    const back = await readPvPt(file);
    expect(back.vectors.map((v) => Array.from(v))).toEqual(vectors.map((v) => Array.from(v)));
    const raw = await fs.readFile(file);
    const entries = readZip(raw, file);
    expect(entries.map((e) => e.name)).toEqual([
      'trait_response_avg_diff/data.pkl',
      'trait_response_avg_diff/byteorder',
      'trait_response_avg_diff/data/0',
      'trait_response_avg_diff/version',
    ]);
    expect(Buffer.from(entries[1].data).toString()).toBe('little');
    expect(Buffer.from(entries[3].data).toString()).toBe('3\n');
    expect(entries[0].data[0]).toBe(0x80); // PROTO
    expect(entries[0].data[1]).toBe(2); // protocol 2
    for (const e of entries) expect(e.data.byteOffset % 64, `${e.name} is 64-byte aligned`).toBe(0);
    const row0 = (show(decodeTorchPt(raw, file)) as { data: number[] }).data.slice(0, 33);
    expect(row0.every((x) => x === 0)).toBe(true);
  });

  it('produces byte for byte the committed file that torch.load was seen to read (test/fixtures/pt/README.md)', async () => {
    const pv = await readPvPt(path.join(PT, 'formal_response_avg_diff.pt'));
    const committed = await fs.readFile(path.join(PT, 'ours_formal.pt'));
    expect(Buffer.from(encodePvPt(pv.vectors, 'ours_formal')).equals(committed)).toBe(true);
  });

  it('writes dicts, lists, scalars and empty tensors that read back as written', () => {
    const value = new Map<string, PtValue>([
      ['a', new PtTensor([2, 2], Float32Array.of(1, -2, 3.5, 1e-30))],
      ['list', [new PtTensor([], Float32Array.of(7)), new PtTensor([0], new Float32Array(0))]],
      ['n', 70000],
      ['neg', -3],
      ['big', 2 ** 40],
      ['x', 0.25],
      ['s', 'é'],
      ['t', true],
      ['none', null],
    ]);
    expect(show(decodeTorchPt(encodeTorchPt(value), 'memory'))).toEqual(show(value));
  });

  it('refuses a pickle that would run a command (torch.save of an os.system payload) and names the global', async () => {
    const file = path.join(PT, 'runs_a_command.pt');
    await expect(readTorchPt(file)).rejects.toThrow(TorchPtError);
    await expect(readTorchPt(file)).rejects.toThrow(/global "posix\.system" is not allowed.*nothing in them is executed/);
  });

  it('refuses every opcode and global outside the allow-list with an error naming it', async () => {
    const archive = await fs.readFile(path.join(PT, 'formal_response_avg_diff.pt'));
    const cases: [string, RegExp][] = [
      ['\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R.', /global "builtins\.eval" is not allowed/],
      ['\x80\x04\x8c\x02os\x8c\x06system\x93.', /global "os\.system" is not allowed/], // STACK_GLOBAL
      ['\x80\x02}b.', /opcode BUILD is not allowed/],
      ['\x80\x02ccollections\nOrderedDict\n)\x81.', /opcode NEWOBJ is not allowed/],
      ['\x80\x02(ios\nsystem\n.', /opcode INST is not allowed/],
      ['\x80\x02ctorch\nFloatStorage\n)R.', /torch\.FloatStorage cannot be called/],
      ['\x80\x02X\x07\x00\x00\x00storageQ.', /a persistent id other than/],
      ['\x80\x02X\xff\xff\x00\x00abc.', /truncated or damaged/],
      ['\x80\x02h\x05.', /memo entry 5 is read before it is written/],
      ['\x80\x02K\x01K\x02.', /STOP with a stack that does not hold exactly one value/],
      ['\x80\x02K\x01', /truncated or damaged/],
      ['\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(K\x01t R.'.replace(' ', ''), /_rebuild_tensor_v2 called with 1 arguments/],
    ];
    for (const [pkl, want] of cases) {
      expect(() => decodeTorchPt(withPickle(archive, latin1(pkl)), 'bad.pt'), JSON.stringify(pkl)).toThrow(want);
    }
  });

  it('refuses damaged archives with a message naming the file', async () => {
    const archive = await fs.readFile(path.join(PT, 'formal_response_avg_diff.pt'));
    expect(() => decodeTorchPt(archive.subarray(0, archive.length - 30), 'cut.pt')).toThrow(
      /cut\.pt .*no end-of-central-directory record \(the file is truncated\)/,
    );
    const flipped = Buffer.from(archive);
    const storage = readZip(archive, 'f').find((e) => e.name.endsWith('/data/0'))!.data;
    flipped[storage.byteOffset - archive.byteOffset + 10] ^= 0xff; // inside data/0
    expect(() => decodeTorchPt(flipped, 'flip.pt')).toThrow(/flip\.pt .*fails its CRC check/);
    expect(() => decodeTorchPt(latin1('\x80\x02K\x01.'), 'legacy.pt')).toThrow(/legacy\.pt .*does not start with a zip local header/);
    const noStorage = writeZip(readZip(archive, 'f').filter((e) => !e.name.endsWith('/data/0')));
    expect(() => decodeTorchPt(noStorage, 'nostorage.pt')).toThrow(/names storage 0 but the archive has no formal_response_avg_diff\/data\/0/);
    await expect(readPvPt(path.join(PT, 'mixed_dict.pt'))).rejects.toThrow(PersonaFileError);
    await expect(readPvPt(path.join(dir, 'missing.pt'))).rejects.toThrow(/missing\.pt: no such file/);
  });

  it('survives 3,000 seeded mutations of real pickles: every one reads or is refused with a TorchPtError', async () => {
    const rnd = seededRandom(20251204);
    const sources = await Promise.all(['formal_response_avg_diff.pt', 'mixed_dict.pt', 'layer_list.pt'].map((f) => fs.readFile(path.join(PT, f))));
    let refused = 0;
    let read = 0;
    for (let i = 0; i < 3000; i++) {
      const archive = sources[i % sources.length];
      const pkl = Uint8Array.from(pickleOf(archive));
      const edits = 1 + Math.floor(rnd() * 3);
      let mutated: Uint8Array = pkl;
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rnd() * mutated.length);
        const kind = rnd();
        if (kind < 0.5) mutated[at] = Math.floor(rnd() * 256);
        else if (kind < 0.75) mutated = Uint8Array.from([...mutated.subarray(0, at), ...mutated.subarray(at + 1 + Math.floor(rnd() * 8))]);
        else mutated = mutated.subarray(0, at);
      }
      try {
        decodeTorchPt(withPickle(archive, mutated), `mutation ${i}`);
        read++;
      } catch (err) {
        if (!(err instanceof TorchPtError)) throw new Error(`mutation ${i} threw ${(err as Error).name}: ${(err as Error).message}`);
        expect((err as Error).message).toMatch(new RegExp(`^mutation ${i}`));
        refused++;
      }
    }
    expect(refused + read).toBe(3000);
    expect(refused).toBeGreaterThan(1500); // most mutations break the pickle; each was refused cleanly
  });

  it('reads an upload held in memory with the same checks as a file', async () => {
    const bytes = await fs.readFile(path.join(PT, 'formal_response_avg_diff.pt'));
    expect(decodePvPt(bytes, 'upload', { hiddenSize: 256, numLayers: 6 }).vectors).toHaveLength(6);
    expect(() => decodePvPt(bytes.subarray(0, 100), 'upload')).toThrow(/^upload is not a readable PyTorch zip archive/);
  });
});
