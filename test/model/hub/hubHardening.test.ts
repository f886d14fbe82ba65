import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { HubError, InvalidArgumentError, ModelFileError } from '../../../src/errors.js';
import { repoCacheDir } from '../../../src/model/hub/hubCache.js';
import { hubDownload } from '../../../src/model/hub/hubDownload.js';
import { snapshotDownload } from '../../../src/model/hub/snapshotDownload.js';
import { HubNetworkError } from '../../../src/model/hub/hubRequest.js';
import { DEFAULT_HUB_TIMEOUT_MS, resolveHubSettings } from '../../../src/model/hub/hubSettings.js';
import { COMMIT_A, FakeHub, decoderRepo, pseudoRandom, sha256, tempHubOptions } from './fakeHub.js';

const WEIGHTS = pseudoRandom(300_000, 1);
const ETAG = sha256(WEIGHTS);

describe('hub downloads from a misbehaving server', () => {
  let hub: FakeHub;
  beforeAll(async () => {
    const escape = decoderRepo(COMMIT_A);
    delete escape.files['model.safetensors'];
    escape.files['model.safetensors.index.json'] = JSON.stringify({ weight_map: { 'a.weight': 'model-1.safetensors', 'b.weight': '../outside.safetensors' } });
    escape.files['model-1.safetensors'] = pseudoRandom(1000, 4);
    hub = await FakeHub.start({ 'org/model': decoderRepo(COMMIT_A), 'org/escape': escape });
  });
  afterAll(() => hub.close());

  async function setup() {
    const t = await tempHubOptions(hub);
    const repo = repoCacheDir(t.cacheDir, 'org/model');
    return { ...t, repo, blob: path.join(repo, 'blobs', ETAG) };
  }

  it('cut a body that never ends off at the announced size, and keep nothing of it', async () => {
    const { opts, blob, repo } = await setup();
    hub.endlessBody = true;
    let most = 0;
    const run = hubDownload('org/model', 'model.safetensors', { ...opts, onProgress: (e) => (most = Math.max(most, e.done)) });
    await expect(run).rejects.toThrow(HubError);
    await expect(run).rejects.toThrow(
      /sent more than the 300000 bytes it announced for model\.safetensors of org\/model; the transfer was cut off at 300000 bytes/,
    );
    expect(most).toBe(WEIGHTS.length);
    await expect(fs.stat(`${blob}.incomplete`)).rejects.toThrow();
    await expect(fs.stat(blob)).rejects.toThrow();
    await expect(fs.stat(path.join(repo, 'snapshots'))).rejects.toThrow();
    // The next, well-behaved transfer gives the right file.
    const { path: file } = await hubDownload('org/model', 'model.safetensors', opts);
    expect(sha256(await fs.readFile(file))).toBe(ETAG);
  });

  it('refuse a body whose Content-Length is larger than the announced size before writing any of it', async () => {
    const { opts, blob } = await setup();
    hub.extraBytes = 1000;
    await expect(hubDownload('org/model', 'model.safetensors', opts)).rejects.toThrow(
      /sends 301000 bytes of model\.safetensors .* more than the 300000 it announced/,
    );
    await expect(fs.stat(`${blob}.incomplete`)).rejects.toThrow();
  });

  it('end a HEAD that is never answered after the connect timeout, with a clear error', async () => {
    const { opts } = await setup();
    hub.stallHeads = 1;
    const run = hubDownload('org/model', 'config.json', { ...opts, connectTimeoutMs: 200 });
    await expect(run).rejects.toThrow(HubNetworkError);
    await expect(run).rejects.toThrow(/did not answer HEAD config\.json of org\/model within 0\.2 s.*HF_HUB_ETAG_TIMEOUT/);
    // The same through the environment variable, in seconds.
    hub.stallHeads = 1;
    await expect(hubDownload('org/model', 'config.json', { ...opts, env: { ...opts.env, HF_HUB_ETAG_TIMEOUT: '0.3' } })).rejects.toThrow(/within 0\.3 s/);
    hub.stallHeads = 0;
  });

  it('end a body that stalls after the read timeout, keeping what came so that the next call resumes', async () => {
    const { opts, blob } = await setup();
    hub.stallAfter = 80_000;
    const run = hubDownload('org/model', 'model.safetensors', { ...opts, readTimeoutMs: 200, retries: 0 });
    await expect(run).rejects.toThrow(HubNetworkError);
    await expect(run).rejects.toThrow(/model\.safetensors of org\/model stalled: no data for 0\.2 s\. Run again to resume.*HF_HUB_DOWNLOAD_TIMEOUT/);
    expect((await fs.stat(`${blob}.incomplete`)).size).toBe(80_000);
    const before = hub.requests.length;
    const { path: file } = await hubDownload('org/model', 'model.safetensors', opts);
    expect(hub.requests.slice(before).find((r) => r.method === 'GET')?.headers.range).toBe('bytes=80000-');
    expect(sha256(await fs.readFile(file))).toBe(ETAG);
  });

  it('resume by itself within one call after a stall when retries are allowed', async () => {
    const { opts } = await setup();
    hub.stallAfter = 50_000;
    const { path: file } = await hubDownload('org/model', 'model.safetensors', { ...opts, readTimeoutMs: 200 });
    expect(sha256(await fs.readFile(file))).toBe(ETAG);
  });

  it('refuse and remove a blob with a flipped byte (sha256 against the LFS ETag), also when resumed over a corrupt part', async () => {
    const { opts, blob, repo } = await setup();
    const flipped = Buffer.from(WEIGHTS);
    flipped[123_456] ^= 0x01;
    hub.blobs.set(ETAG, flipped);
    try {
      const run = hubDownload('org/model', 'model.safetensors', opts);
      await expect(run).rejects.toThrow(HubError);
      await expect(run).rejects.toThrow(
        new RegExp(`do not match the sha256 the hub announced \\(${ETAG}; got ${sha256(flipped)}\\); the download was removed`),
      );
    } finally {
      hub.blobs.set(ETAG, WEIGHTS);
    }
    await expect(fs.stat(blob)).rejects.toThrow();
    await expect(fs.stat(`${blob}.incomplete`)).rejects.toThrow();
    await expect(fs.stat(path.join(repo, 'snapshots'))).rejects.toThrow();

    // A partial file whose bytes are wrong: the resumed rest is right, the whole is not.
    await fs.mkdir(path.dirname(blob), { recursive: true });
    await fs.writeFile(`${blob}.incomplete`, Buffer.alloc(1000, 7));
    await expect(hubDownload('org/model', 'model.safetensors', opts)).rejects.toThrow(/do not match the sha256/);
    await expect(fs.stat(`${blob}.incomplete`)).rejects.toThrow();
    const { path: file } = await hubDownload('org/model', 'model.safetensors', opts);
    expect(sha256(await fs.readFile(file))).toBe(ETAG);
  });

  it('refuse a shard index that names a file outside the repo, naming the index, and fetch no shard', async () => {
    const { opts } = await setup();
    const before = hub.count('/cdn/');
    const run = snapshotDownload('org/escape', opts);
    await expect(run).rejects.toThrow(ModelFileError);
    await expect(run).rejects.toThrow(/model\.safetensors\.index\.json names the shard "\.\.\/outside\.safetensors", which is not a file of the repo/);
    expect(hub.count('/cdn/')).toBe(before);
  });

  it('take both timeouts from the options, else HF_HUB_ETAG_TIMEOUT and HF_HUB_DOWNLOAD_TIMEOUT, and refuse values that are not positive', async () => {
    expect(await resolveHubSettings({ env: {} })).toMatchObject({ connectTimeoutMs: DEFAULT_HUB_TIMEOUT_MS, readTimeoutMs: DEFAULT_HUB_TIMEOUT_MS });
    expect(await resolveHubSettings({ env: { HF_HUB_ETAG_TIMEOUT: '2.5', HF_HUB_DOWNLOAD_TIMEOUT: '60' } })).toMatchObject({
      connectTimeoutMs: 2500,
      readTimeoutMs: 60_000,
    });
    expect(await resolveHubSettings({ env: { HF_HUB_ETAG_TIMEOUT: '2.5' }, connectTimeoutMs: 100, readTimeoutMs: 50 })).toMatchObject({
      connectTimeoutMs: 100,
      readTimeoutMs: 50,
    });
    await expect(resolveHubSettings({ env: { HF_HUB_DOWNLOAD_TIMEOUT: 'soon' } })).rejects.toThrow(
      /HF_HUB_DOWNLOAD_TIMEOUT="soon" is not a positive number of seconds/,
    );
    await expect(resolveHubSettings({ env: {}, readTimeoutMs: 0 })).rejects.toThrow(InvalidArgumentError);
  });
});
