import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { HubError } from '../../../src/errors.js';
import { repoCacheDir } from '../../../src/model/hub/hubCache.js';
import { hubDownload } from '../../../src/model/hub/hubDownload.js';
import { HubFileNotFoundError } from '../../../src/model/hub/hubRequest.js';
import type { ProgressEvent } from '../../../src/util/progress.js';
import { COMMIT_A, FakeHub, decoderRepo, gitSha1, pseudoRandom, sha256, tempHubOptions } from './fakeHub.js';

const WEIGHTS = pseudoRandom(300_000, 1);
const ETAG = sha256(WEIGHTS);

describe('hubDownload', () => {
  let hub: FakeHub;
  beforeAll(async () => {
    hub = await FakeHub.start({ 'org/model': decoderRepo(COMMIT_A), 'org/weak': { commit: COMMIT_A, files: { 'a.json': '{}' }, weakEtag: true } });
  });
  afterAll(() => hub.close());

  async function setup() {
    const t = await tempHubOptions(hub);
    const repo = repoCacheDir(t.cacheDir, 'org/model');
    const blob = path.join(repo, 'blobs', ETAG);
    return { ...t, repo, blob };
  }

  it('reports progress in bytes up to the file size', async () => {
    const { opts } = await setup();
    const events: ProgressEvent[] = [];
    await hubDownload('org/model', 'model.safetensors', { ...opts, onProgress: (e) => events.push(e) });
    expect(events.at(-1)).toEqual({ phase: 'download model.safetensors', done: WEIGHTS.length, total: WEIGHTS.length, unit: 'bytes' });
    expect(events.every((e, i) => i === 0 || e.done >= events[i - 1].done)).toBe(true);
  });

  it('resumes a transfer that was cut off with a Range request and gives identical bytes', async () => {
    const { opts, blob } = await setup();
    hub.cuts = 1;
    hub.cutAfter = 100_000;
    await expect(hubDownload('org/model', 'model.safetensors', { ...opts, retries: 0 })).rejects.toThrow(/broke off.*run again to resume/);
    const partial = (await fs.stat(`${blob}.incomplete`)).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(WEIGHTS.length);
    await expect(fs.stat(blob)).rejects.toThrow();

    const before = hub.requests.length;
    const { path: file } = await hubDownload('org/model', 'model.safetensors', opts);
    const get = hub.requests.slice(before).find((r) => r.method === 'GET');
    expect(get?.headers.range).toBe(`bytes=${partial}-`);
    expect(sha256(await fs.readFile(file))).toBe(ETAG);
    await expect(fs.stat(`${blob}.incomplete`)).rejects.toThrow();
  });

  it('resumes by itself within one call when retries are allowed', async () => {
    const { opts } = await setup();
    hub.cuts = 1;
    hub.cutAfter = 50_000;
    const before = hub.requests.length;
    const { path: file } = await hubDownload('org/model', 'model.safetensors', opts);
    expect(sha256(await fs.readFile(file))).toBe(ETAG);
    expect(hub.requests.slice(before).filter((r) => r.headers.range).length).toBe(1);
  });

  it('starts over when the server answers a Range request with the whole file', async () => {
    const { opts, blob } = await setup();
    await fs.mkdir(path.dirname(blob), { recursive: true });
    await fs.writeFile(`${blob}.incomplete`, Buffer.alloc(1234, 7)); // wrong bytes: must not survive
    hub.ignoreRange = true;
    try {
      const { path: file } = await hubDownload('org/model', 'model.safetensors', opts);
      expect(sha256(await fs.readFile(file))).toBe(ETAG);
    } finally {
      hub.ignoreRange = false;
    }
  });

  it('fails on a size mismatch and leaves no complete blob or snapshot file', async () => {
    for (const delta of [+10, -10]) {
      const { opts, blob, repo } = await setup();
      hub.linkedSizeDelta = delta;
      try {
        await expect(hubDownload('org/model', 'model.safetensors', opts)).rejects.toThrow(HubError);
      } finally {
        hub.linkedSizeDelta = 0;
      }
      await expect(fs.stat(blob)).rejects.toThrow();
      await expect(fs.stat(path.join(repo, 'snapshots'))).rejects.toThrow();
      // A short file is kept to resume; a too-long one is removed.
      expect((await fs.stat(`${blob}.incomplete`).catch(() => undefined)) !== undefined).toBe(delta > 0);
    }
  });

  it('leaves only a resumable .incomplete file when aborted mid-transfer', async () => {
    const { opts, blob, repo } = await setup();
    hub.stallAfter = 80_000;
    const ac = new AbortController();
    const run = hubDownload('org/model', 'model.safetensors', { ...opts, signal: ac.signal, onProgress: (e) => e.done > 0 && ac.abort() });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect((await fs.stat(`${blob}.incomplete`)).size).toBeGreaterThan(0);
    await expect(fs.stat(blob)).rejects.toThrow();
    await expect(fs.readdir(path.join(repo, 'snapshots'))).rejects.toThrow();

    const { path: file } = await hubDownload('org/model', 'model.safetensors', opts);
    expect(sha256(await fs.readFile(file))).toBe(ETAG);
  });

  it('downloads a file once when two calls ask for it at the same time', async () => {
    const { opts } = await setup();
    const before = hub.count('/cdn/');
    const [a, b] = await Promise.all([hubDownload('org/model', 'model.safetensors', opts), hubDownload('org/model', 'model.safetensors', opts)]);
    expect(a).toEqual(b);
    expect(sha256(await fs.readFile(a.path))).toBe(ETAG);
    expect(hub.count('/cdn/') - before).toBe(1);
  });

  it('takes over a lock left by a process that is gone', async () => {
    const { opts, cacheDir, blob } = await setup();
    const lock = path.join(cacheDir, '.locks', 'models--org--model', `${ETAG}.pvlock`);
    await fs.mkdir(path.dirname(lock), { recursive: true });
    await fs.writeFile(lock, String(spawnSync(process.execPath, ['-e', '']).pid));
    await hubDownload('org/model', 'model.safetensors', opts);
    expect(sha256(await fs.readFile(blob))).toBe(ETAG);
    await expect(fs.stat(lock)).rejects.toThrow();
  });

  it('names a blob by the ETag without quotes or W/', async () => {
    const { opts, cacheDir } = await setup();
    await hubDownload('org/weak', 'a.json', opts);
    expect(await fs.readdir(path.join(repoCacheDir(cacheDir, 'org/weak'), 'blobs'))).toEqual([gitSha1(Buffer.from('{}'))]);
  });

  it('remembers a missing file (.no_exist) and answers the next ask from the cache', async () => {
    const { opts, repo } = await setup();
    await expect(hubDownload('org/model', 'absent.json', opts)).rejects.toThrow(HubFileNotFoundError);
    expect(await fs.readFile(path.join(repo, '.no_exist', COMMIT_A, 'absent.json'), 'utf8')).toBe('');
    const before = hub.requests.length;
    await expect(hubDownload('org/model', 'absent.json', opts)).rejects.toThrow(/does not exist/);
    expect(hub.requests.length).toBe(before);
  });

  it('refuses a server that does not answer like the hub, or names blobs with path characters', async () => {
    const plain = http.createServer((req, res) => {
      const etag = req.url!.includes('evil') ? '"../../x"' : '"abc"';
      res.writeHead(200, { 'Content-Length': '2', ETag: etag, ...(req.url!.includes('nocommit') ? {} : { 'X-Repo-Commit': COMMIT_A }) }).end('{}');
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const { opts } = await setup();
      const endpoint = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
      await expect(hubDownload('org/nocommit', 'config.json', { ...opts, endpoint })).rejects.toThrow(/did not answer like a Hugging Face hub/);
      await expect(hubDownload('org/evil', 'config.json', { ...opts, endpoint })).rejects.toThrow(/did not answer like a Hugging Face hub/);
      await expect(hubDownload('org/fine', 'config.json', { ...opts, endpoint })).resolves.toMatchObject({ commit: COMMIT_A });
    } finally {
      plain.closeAllConnections();
      await new Promise((r) => plain.close(r));
    }
  });

  it('says which repo or file was not found on a 404', async () => {
    const { opts } = await setup();
    await expect(hubDownload('org/nope', 'config.json', opts)).rejects.toThrow(/Repo org\/nope not found/);
    const missing = hubDownload('org/model', 'nope.json', opts);
    await expect(missing).rejects.toThrow(HubFileNotFoundError);
    await expect(missing).rejects.toThrow(/nope\.json not found in org\/model@main.*repo or the file does not exist/);
    await expect(hubDownload('org/model', 'config.json', { ...opts, revision: 'v9' })).rejects.toThrow(/Revision "v9" not found/);
  });
});
