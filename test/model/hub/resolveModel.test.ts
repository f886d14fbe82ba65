import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, ModelFileError } from '../../../src/errors.js';
import { resolveModelSource } from '../../../src/model/resolveModel.js';
import { COMMIT_A, FakeHub, decoderRepo, tempHubOptions } from './fakeHub.js';

describe('resolveModelSource', () => {
  let hub: FakeHub;
  beforeAll(async () => {
    hub = await FakeHub.start({ 'org/model': decoderRepo(COMMIT_A) });
  });
  afterAll(() => hub.close());

  it('takes an existing folder with config.json as a local model', async () => {
    const { home } = await tempHubOptions();
    const dir = path.join(home, 'my-model');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'config.json'), '{}');
    expect(await resolveModelSource(dir)).toEqual({ dir, id: 'my-model', source: 'local' });
  });

  it('names config.json when a local folder lacks it', async () => {
    const { home } = await tempHubOptions();
    await expect(resolveModelSource(home)).rejects.toThrow(ModelFileError);
    await expect(resolveModelSource(home)).rejects.toThrow(/has no config\.json/);
  });

  it('refuses a file where a folder is expected', async () => {
    const { home } = await tempHubOptions();
    await fs.writeFile(path.join(home, 'model.safetensors'), '');
    await expect(resolveModelSource(path.join(home, 'model.safetensors'))).rejects.toThrow(/is a file; a model is a folder/);
  });

  it('says a spec is neither a folder nor a hub id, without asking the hub', async () => {
    const { opts } = await tempHubOptions(hub);
    const before = hub.requests.length;
    for (const spec of ['./no/such/folder', 'not a model', 'gpt2', 'org/name/extra', '../org/name', 'org/name@']) {
      await expect(resolveModelSource(spec, opts)).rejects.toThrow(/neither an existing folder nor a hub id/);
    }
    expect(hub.requests.length).toBe(before);
  });

  it('downloads a hub id into the cache and names the commit', async () => {
    const { opts, cacheDir } = await tempHubOptions(hub);
    const src = await resolveModelSource('org/model', opts);
    expect(src).toEqual({ dir: path.join(cacheDir, 'models--org--model', 'snapshots', COMMIT_A), id: 'org/model', commit: COMMIT_A, source: 'hub' });
    expect(JSON.parse(await fs.readFile(path.join(src.dir, 'config.json'), 'utf8')).model_type).toBe('qwen3');
  });

  it('says when an id that may be a mistyped folder is not on the hub either', async () => {
    const { opts } = await tempHubOptions(hub);
    await expect(resolveModelSource('models/stylst', opts)).rejects.toThrow(/Repo models\/stylst not found.*no local folder "models\/stylst" either/);
  });

  it('reads a revision after @ in the id', async () => {
    const { opts } = await tempHubOptions(hub);
    expect(await resolveModelSource(`org/model@${COMMIT_A}`, opts)).toMatchObject({ id: 'org/model', revision: COMMIT_A, commit: COMMIT_A });
    await expect(resolveModelSource('org/model@v2', opts)).rejects.toThrow(/Revision "v2" not found/);
  });

  it('refuses two different revisions, one in the id and one in the options', async () => {
    const { opts } = await tempHubOptions(hub);
    await expect(resolveModelSource('org/model@main', { ...opts, revision: 'dev' })).rejects.toThrow(InvalidArgumentError);
  });
});
