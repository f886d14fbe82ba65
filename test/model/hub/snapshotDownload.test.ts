import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { HubError } from '../../../src/errors.js';
import { repoCacheDir } from '../../../src/model/hub/hubCache.js';
import { snapshotDownload } from '../../../src/model/hub/snapshotDownload.js';
import { COMMIT_A, COMMIT_B, FakeHub, decoderRepo, gitSha1, pseudoRandom, sha256, tempHubOptions } from './fakeHub.js';

const shard1 = pseudoRandom(120_000, 2);
const shard2 = pseudoRandom(90_000, 3);
const sharded = decoderRepo(COMMIT_B);
delete sharded.files['model.safetensors'];
delete sharded.files['generation_config.json'];
Object.assign(sharded.files, {
  'chat_template.jinja': '{% for m in messages %}{{ m.content }}{% endfor %}',
  'model-00001-of-00002.safetensors': shard1,
  'model-00002-of-00002.safetensors': shard2,
  'model.safetensors.index.json': JSON.stringify({
    metadata: { total_size: shard1.length + shard2.length },
    weight_map: {
      'a.weight': 'model-00001-of-00002.safetensors',
      'b.weight': 'model-00002-of-00002.safetensors',
      'c.weight': 'model-00001-of-00002.safetensors',
    },
  }),
});

describe('snapshotDownload', () => {
  let hub: FakeHub;
  let cdn: FakeHub;
  let gated: FakeHub;
  beforeAll(async () => {
    hub = await FakeHub.start({ 'org/model': decoderRepo(COMMIT_A), 'org/sharded': sharded });
    // A gated repo whose LFS files live on another host, as huggingface.co → cdn-lfs.
    cdn = await FakeHub.start();
    gated = await FakeHub.start({ 'org/gated': { ...decoderRepo(COMMIT_A), token: 'hf_secret' } }, cdn);
  });
  afterAll(async () => {
    await Promise.all([hub.close(), cdn.close(), gated.close()]);
  });

  it('lays out blobs, refs and snapshots exactly as huggingface_hub does', async () => {
    const { opts, cacheDir } = await tempHubOptions(hub);
    const dir = await snapshotDownload('org/model', opts);
    const repo = repoCacheDir(cacheDir, 'org/model');
    expect(dir).toBe(path.join(repo, 'snapshots', COMMIT_A));
    expect(await fs.readFile(path.join(repo, 'refs', 'main'), 'utf8')).toBe(COMMIT_A);

    const files = decoderRepo(COMMIT_A).files;
    const etag = (name: string) => (name.endsWith('.safetensors') ? sha256(files[name]) : gitSha1(Buffer.from(files[name])));
    expect((await fs.readdir(path.join(repo, 'blobs'))).sort()).toEqual(Object.keys(files).map(etag).sort());
    expect((await fs.readdir(dir)).sort()).toEqual(Object.keys(files).sort());
    for (const name of Object.keys(files)) {
      expect(await fs.readlink(path.join(dir, name))).toBe(`../../blobs/${etag(name)}`);
      expect(sha256(await fs.readFile(path.join(dir, name)))).toBe(sha256(files[name]));
    }
    // The optional chat template 404'd: skipped, and remembered as absent.
    expect(await fs.readdir(path.join(repo, '.no_exist', COMMIT_A))).toEqual(['chat_template.jinja']);
  });

  it('makes no request the second time', async () => {
    const { opts } = await tempHubOptions(hub);
    const first = await snapshotDownload('org/model', opts);
    const before = hub.requests.length;
    expect(await snapshotDownload('org/model', opts)).toBe(first);
    expect(await snapshotDownload('org/model', { ...opts, revision: COMMIT_A })).toBe(first);
    expect(hub.requests.length).toBe(before);
  });

  it('links nested file names with one more ../ per folder, and stores empty files', async () => {
    const nested = await FakeHub.start({ 'org/n': { commit: COMMIT_A, files: { 'config.json': '{}', 'empty.txt': '', 'sub/dir/w.safetensors': 'xyz' } } });
    try {
      const { opts } = await tempHubOptions(nested);
      const dir = await snapshotDownload('org/n', { ...opts, files: ['config.json', 'empty.txt', 'sub/dir/w.safetensors'] });
      expect(await fs.readFile(path.join(dir, 'empty.txt'), 'utf8')).toBe('');
      expect(await fs.readlink(path.join(dir, 'sub', 'dir', 'w.safetensors'))).toBe(`../../../../blobs/${sha256('xyz')}`);
      expect(await fs.readFile(path.join(dir, 'sub', 'dir', 'w.safetensors'), 'utf8')).toBe('xyz');
    } finally {
      await nested.close();
    }
  });

  it('downloads every shard named in the index of a sharded checkpoint, each once', async () => {
    const { opts } = await tempHubOptions(hub);
    const before = hub.requests.length;
    const dir = await snapshotDownload('org/sharded', opts);
    expect(dir.endsWith(COMMIT_B)).toBe(true);
    expect(sha256(await fs.readFile(path.join(dir, 'model-00001-of-00002.safetensors')))).toBe(sha256(shard1));
    expect(sha256(await fs.readFile(path.join(dir, 'model-00002-of-00002.safetensors')))).toBe(sha256(shard2));
    expect(await fs.readFile(path.join(dir, 'chat_template.jinja'), 'utf8')).toContain('messages');
    const shardGets = hub.requests.slice(before).filter((r) => r.method === 'GET' && r.url.startsWith('/cdn/'));
    expect(shardGets.length).toBe(2);
    // Every file after the first is asked for at the commit the first resolved to.
    const heads = hub.requests
      .slice(before)
      .filter((r) => r.method === 'HEAD')
      .map((r) => r.url);
    expect(heads[0]).toBe('/org/sharded/resolve/main/config.json');
    expect(heads.slice(1).every((u) => u.includes(`/resolve/${COMMIT_B}/`))).toBe(true);

    const after = hub.requests.length;
    await snapshotDownload('org/sharded', opts);
    expect(hub.requests.length).toBe(after);
  });

  it('refuses a gated repo without a token, with a message about HF_TOKEN', async () => {
    const { opts } = await tempHubOptions(gated);
    const run = snapshotDownload('org/gated', opts);
    await expect(run).rejects.toThrow(HubError);
    await expect(run).rejects.toThrow(/gated.*HF_TOKEN/);
    await expect(snapshotDownload('org/gated', { ...opts, token: 'hf_wrong' })).rejects.toThrow(/refused the access token.*HF_TOKEN/);
  });

  it('downloads a gated repo with HF_TOKEN, and sends the token to the hub only, never to the CDN', async () => {
    const { opts } = await tempHubOptions(gated);
    const [hubBefore, cdnBefore] = [gated.requests.length, cdn.requests.length];
    const dir = await snapshotDownload('org/gated', { ...opts, env: { ...opts.env, HF_TOKEN: 'hf_secret' } });
    expect(sha256(await fs.readFile(path.join(dir, 'model.safetensors')))).toBe(sha256(decoderRepo(COMMIT_A).files['model.safetensors']));
    expect(gated.requests.slice(hubBefore).every((r) => r.headers.authorization === 'Bearer hf_secret')).toBe(true);
    expect(cdn.requests.length).toBe(cdnBefore + 1);
    expect(cdn.requests.slice(cdnBefore).every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('reads the token file huggingface-cli login writes', async () => {
    const { opts, home } = await tempHubOptions(gated);
    await fs.writeFile(path.join(home, 'token'), 'hf_secret\n');
    await expect(snapshotDownload('org/gated', opts)).resolves.toContain(COMMIT_A);
  });

  it('works offline from the cache with zero requests', async () => {
    const { opts } = await tempHubOptions(hub);
    const online = await snapshotDownload('org/sharded', opts);
    const before = hub.requests.length;
    expect(await snapshotDownload('org/sharded', { ...opts, env: { ...opts.env, HF_HUB_OFFLINE: '1' } })).toBe(online);
    expect(await snapshotDownload('org/sharded', { ...opts, offline: true })).toBe(online);
    expect(hub.requests.length).toBe(before);
  });

  it('works offline from a cache made by Python, which records no absent optional files', async () => {
    const { opts, cacheDir } = await tempHubOptions(hub);
    const online = await snapshotDownload('org/model', opts);
    await fs.rm(path.join(repoCacheDir(cacheDir, 'org/model'), '.no_exist'), { recursive: true });
    const before = hub.requests.length;
    expect(await snapshotDownload('org/model', { ...opts, offline: true })).toBe(online);
    expect(hub.requests.length).toBe(before);
  });

  it('fails offline without the model, saying it is offline and what is missing', async () => {
    const { opts } = await tempHubOptions(hub);
    const before = hub.requests.length;
    const run = snapshotDownload('org/model', { ...opts, env: { ...opts.env, HF_HUB_OFFLINE: '1' } });
    await expect(run).rejects.toThrow(HubError);
    await expect(run).rejects.toThrow(/Offline \(HF_HUB_OFFLINE is set\).*config\.json of org\/model@main is not in the cache/);
    expect(hub.requests.length).toBe(before);
  });

  it('fails offline naming the weights when only the config is cached', async () => {
    const { opts } = await tempHubOptions(hub);
    await snapshotDownload('org/model', { ...opts, files: ['config.json', 'tokenizer.json', 'tokenizer_config.json'] });
    const before = hub.requests.length;
    await expect(snapshotDownload('org/model', { ...opts, offline: true })).rejects.toThrow(/Offline.*model\.safetensors/);
    expect(hub.requests.length).toBe(before);
  });

  it('says the hub is unreachable when nothing listens at the endpoint', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const { opts } = await tempHubOptions();
    const run = snapshotDownload('org/model', { ...opts, endpoint: `http://127.0.0.1:${port}` });
    await expect(run).rejects.toThrow(HubError);
    await expect(run).rejects.toThrow(/Cannot reach the Hugging Face hub.*ECONNREFUSED.*network.*HF_HUB_OFFLINE=1.*local model folder/);
  });

  it('takes the endpoint from HF_ENDPOINT', async () => {
    const { opts } = await tempHubOptions();
    const dir = await snapshotDownload('org/model', { ...opts, env: { ...opts.env, HF_ENDPOINT: `${hub.url}/` } });
    expect(path.basename(dir)).toBe(COMMIT_A);
  });
});
