import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hfHome, hubCacheDir, lookupCachedFile, repoCacheDir } from '../../../src/model/hub/hubCache.js';
import { isRepoId, parseHubSpec } from '../../../src/model/hub/hubIds.js';
import { COMMIT_A, COMMIT_B, tempHubOptions } from './fakeHub.js';

describe('hub cache folder', () => {
  it('is HF_HUB_CACHE when set, whatever else is set', () => {
    expect(hubCacheDir({ HF_HUB_CACHE: '/x/cache', HF_HOME: '/y', XDG_CACHE_HOME: '/z' })).toBe('/x/cache');
  });

  it('falls back to the older HUGGINGFACE_HUB_CACHE, then HF_HOME/hub', () => {
    expect(hubCacheDir({ HUGGINGFACE_HUB_CACHE: '/old', HF_HOME: '/y' })).toBe('/old');
    expect(hubCacheDir({ HF_HOME: '/y' })).toBe(path.join('/y', 'hub'));
  });

  it('uses XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub', () => {
    expect(hubCacheDir({ XDG_CACHE_HOME: '/z' })).toBe(path.join('/z', 'huggingface', 'hub'));
    expect(hubCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'huggingface', 'hub'));
    expect(hfHome({})).toBe(path.join(os.homedir(), '.cache', 'huggingface'));
  });

  it('expands a leading ~ and ignores empty variables', () => {
    expect(hubCacheDir({ HF_HOME: '~/hf', HF_HUB_CACHE: '' })).toBe(path.join(os.homedir(), 'hf', 'hub'));
  });

  it('names a repo folder models--{org}--{name}', () => {
    expect(repoCacheDir('/c', 'Qwen/Qwen3-0.6B')).toBe(path.join('/c', 'models--Qwen--Qwen3-0.6B'));
  });
});

describe('hub ids', () => {
  it('accepts org/name ids and rejects paths, bare names and odd characters', () => {
    for (const id of ['Qwen/Qwen3-0.6B', 'meta-llama/Llama-3.2-1B-Instruct', 'google/gemma-3-270m-it', 'a/b_c.d']) expect(isRepoId(id)).toBe(true);
    for (const id of ['gpt2', './models/x', 'a/b/c', 'a//b', '-a/b', 'a/b.', 'a/b--c', 'a/b..c', 'a b/c', '']) expect(isRepoId(id)).toBe(false);
  });

  it('splits an @revision off the id, including branch names with slashes', () => {
    expect(parseHubSpec('Qwen/Qwen3-0.6B')).toEqual({ repoId: 'Qwen/Qwen3-0.6B' });
    expect(parseHubSpec(`Qwen/Qwen3-0.6B@${COMMIT_A}`)).toEqual({ repoId: 'Qwen/Qwen3-0.6B', revision: COMMIT_A });
    expect(parseHubSpec('org/m@refs/pr/1')).toEqual({ repoId: 'org/m', revision: 'refs/pr/1' });
    expect(parseHubSpec('org/m@')).toBeUndefined();
    expect(parseHubSpec('org/m@../../etc')).toBeUndefined();
  });
});

describe('cache lookup', () => {
  /** Lays a repo out as huggingface_hub does, by hand. */
  async function layOut(cacheDir: string) {
    const repo = repoCacheDir(cacheDir, 'org/model');
    await fs.mkdir(path.join(repo, 'blobs'), { recursive: true });
    await fs.mkdir(path.join(repo, 'refs'), { recursive: true });
    await fs.mkdir(path.join(repo, 'snapshots', COMMIT_A), { recursive: true });
    await fs.mkdir(path.join(repo, '.no_exist', COMMIT_A), { recursive: true });
    await fs.writeFile(path.join(repo, 'blobs', 'e1'), '{"model_type":"llama"}');
    await fs.writeFile(path.join(repo, 'refs', 'main'), COMMIT_A);
    await fs.symlink('../../blobs/e1', path.join(repo, 'snapshots', COMMIT_A, 'config.json'));
    await fs.symlink('../../blobs/gone', path.join(repo, 'snapshots', COMMIT_A, 'tokenizer.json'));
    await fs.writeFile(path.join(repo, '.no_exist', COMMIT_A, 'chat_template.jinja'), '');
    return repo;
  }

  it('finds a file through refs/{branch} and through a commit hash', async () => {
    const { cacheDir } = await tempHubOptions();
    const repo = await layOut(cacheDir);
    const viaRef = await lookupCachedFile(cacheDir, 'org/model', 'config.json', 'main');
    expect(viaRef).toEqual({ kind: 'hit', commit: COMMIT_A, path: path.join(repo, 'snapshots', COMMIT_A, 'config.json') });
    expect(await lookupCachedFile(cacheDir, 'org/model', 'config.json', COMMIT_A)).toEqual(viaRef);
    expect(await fs.readFile((viaRef as { path: string }).path, 'utf8')).toContain('llama');
  });

  it('reports a dangling link or a missing file as a miss with the known commit', async () => {
    const { cacheDir } = await tempHubOptions();
    await layOut(cacheDir);
    expect(await lookupCachedFile(cacheDir, 'org/model', 'tokenizer.json')).toEqual({ kind: 'miss', commit: COMMIT_A });
    expect(await lookupCachedFile(cacheDir, 'org/model', 'model.safetensors')).toEqual({ kind: 'miss', commit: COMMIT_A });
  });

  it('reports an unknown branch, commit or repo as a miss without a commit', async () => {
    const { cacheDir } = await tempHubOptions();
    await layOut(cacheDir);
    expect(await lookupCachedFile(cacheDir, 'org/model', 'config.json', 'dev')).toEqual({ kind: 'miss' });
    expect(await lookupCachedFile(cacheDir, 'org/model', 'config.json', COMMIT_B)).toEqual({ kind: 'miss', commit: COMMIT_B });
    expect(await lookupCachedFile(cacheDir, 'org/other', 'config.json')).toEqual({ kind: 'miss' });
  });

  it('reports a file the hub said does not exist (.no_exist) as absent', async () => {
    const { cacheDir } = await tempHubOptions();
    await layOut(cacheDir);
    expect(await lookupCachedFile(cacheDir, 'org/model', 'chat_template.jinja')).toEqual({ kind: 'absent', commit: COMMIT_A });
  });

  it('refuses file names that climb out of the snapshot', async () => {
    const { cacheDir } = await tempHubOptions();
    await expect(lookupCachedFile(cacheDir, 'org/model', '../../refs/main')).rejects.toThrow(/not a valid file name/);
  });
});
