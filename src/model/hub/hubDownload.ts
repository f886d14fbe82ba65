import { createHash, type Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { HubError } from '../../errors.js';
import { withFileLock } from '../../util/withFileLock.js';
import { linkSnapshotFile, lookupCachedFile, markAbsent, repoCacheDir, writeRef } from './hubCache.js';
import { checkFilename, checkRepoId, checkRevision } from './hubIds.js';
import { HubFileNotFoundError, HubNetworkError, fetchFileMetadata, openDownload, type FileMetadata, type FileRequest } from './hubRequest.js';
import { offlineError, resolveHubSettings, type HubOptions } from './hubSettings.js';

export interface HubDownloadOptions extends HubOptions {
  /** Branch, tag or 40-hex commit; default `main`. */
  revision?: string;
  /** How often a transfer that breaks off is resumed before giving up; default 3. */
  retries?: number;
}

/** A file in the cache. */
export interface HubFile {
  /** `{cache}/models--{org}--{name}/snapshots/{commit}/{filename}`. */
  path: string;
  commit: string;
}

/**
 * Returns a file of a hub repo from the cache, downloading it first when missing. A cached file
 * costs no request. Throws `HubFileNotFoundError` when the repo or file does not exist.
 *
 * @example
 * const { path } = await hubDownload('Qwen/Qwen3-0.6B', 'config.json', { onProgress: progressBar() });
 */
export async function hubDownload(repoId: string, filename: string, opts: HubDownloadOptions = {}): Promise<HubFile> {
  checkRepoId(repoId);
  checkFilename(filename);
  const revision = opts.revision ?? 'main';
  checkRevision(revision);
  const settings = await resolveHubSettings(opts);
  const cached = await lookupCachedFile(settings.cacheDir, repoId, filename, revision);
  if (cached.kind === 'hit') return { path: cached.path, commit: cached.commit };
  if (cached.kind === 'absent')
    throw new HubFileNotFoundError(`${filename} does not exist in ${repoId}@${revision} (cached answer of the hub).`, cached.commit);
  if (settings.offline) throw offlineError(settings, filename, repoId, revision);

  const repoDir = repoCacheDir(settings.cacheDir, repoId);
  const req: FileRequest = { repoId, filename, revision, settings, signal: opts.signal };
  let meta: FileMetadata;
  try {
    meta = await fetchFileMetadata(req);
  } catch (err) {
    if (err instanceof HubFileNotFoundError && err.commit) {
      await markAbsent(repoDir, err.commit, filename);
      await writeRef(repoDir, revision, err.commit);
    }
    throw err;
  }
  const blob = path.join(repoDir, 'blobs', meta.etag);
  // Our own lock name: huggingface_hub's `{etag}.lock` files are flock()ed and left behind.
  const lock = path.join(settings.cacheDir, '.locks', path.basename(repoDir), `${meta.etag}.pvlock`);
  await withFileLock(
    lock,
    async () => {
      if ((await fileSize(blob)) === undefined) await downloadBlob(meta.downloadUrl, blob, meta, req, opts);
    },
    opts.signal,
  );
  const file = await linkSnapshotFile(repoDir, meta.commit, filename, meta.etag);
  await writeRef(repoDir, revision, meta.commit);
  return { path: file, commit: meta.commit };
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return undefined;
  }
}

/**
 * Fetches `url` into `{blob}.incomplete`, resuming from what is there with a Range request, and
 * renames it to `blob` only once its size is `size` and, when the hub gave one, its sha256 matches:
 * an abort or a crash leaves only the `.incomplete` file, which the next call resumes. A body longer
 * than the announced size is cut off there (the file never grows past it) and removed, as is a blob
 * whose sha256 differs.
 */
async function downloadBlob(url: string, blob: string, meta: FileMetadata, req: FileRequest, opts: HubDownloadOptions): Promise<void> {
  const { size, sha256 } = meta;
  const incomplete = `${blob}.incomplete`;
  const phase = `download ${req.filename}`;
  await fs.mkdir(path.dirname(blob), { recursive: true });
  if (size === 0) return fs.writeFile(blob, '');
  const retries = opts.retries ?? 3;
  // The sha256 of the first `hashed` bytes of the .incomplete file, when they were hashed in flight.
  let hash: Hash | undefined;
  let hashed = 0;
  for (let attempt = 0; ; attempt++) {
    let start = (await fileSize(incomplete)) ?? 0;
    if (start > size) {
      await fs.rm(incomplete);
      start = 0;
    }
    if (start === size) break;
    try {
      const { res, chunks } = await openDownload(url, start, req);
      if (res.status === 416) {
        await res.body?.cancel();
        await fs.rm(incomplete, { force: true }); // the server has less than we hold: start over
        if (attempt < retries) continue;
        throw new HubError(`The hub refused to resume ${req.filename} of ${req.repoId} (HTTP 416); run again to download it anew.`);
      }
      if (res.status === 200)
        start = 0; // Range ignored: the whole file comes, so restart it
      else if (!res.headers.get('content-range')?.startsWith(`bytes ${start}-`)) {
        await res.body?.cancel();
        throw new HubError(`The hub answered a resume of ${req.filename} with the wrong range (${res.headers.get('content-range')}).`);
      }
      const announced = Number(res.headers.get('content-length') ?? NaN);
      if (Number.isFinite(announced) && announced > size - start) {
        await res.body?.cancel();
        await fs.rm(incomplete, { force: true });
        throw new HubError(
          `The hub sends ${announced} bytes of ${req.filename} of ${req.repoId} from byte ${start}, more than the ${size} it announced for the file; nothing was kept. Run again; if it persists, a proxy in between alters the file.`,
        );
      }
      hash = sha256 ? await hashPrefix(incomplete, start) : undefined;
      hashed = start;
      hashed = await writeBody(chunks(), incomplete, start, size, phase, opts, req, hash);
      break;
    } catch (err) {
      hash = undefined;
      if (req.signal?.aborted) throw req.signal.reason;
      // Retry what the network broke (fetch reports a cut body as a TypeError), nothing else.
      if (!(err instanceof HubNetworkError || err instanceof TypeError)) throw err;
      if (attempt < retries) {
        await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
        continue;
      }
      if (err instanceof HubNetworkError) throw err;
      throw new HubNetworkError(
        `The download of ${req.filename} of ${req.repoId} broke off (${(err as Error).message}); run again to resume it from ${incomplete}.`,
        { cause: err },
      );
    }
  }
  const got = (await fileSize(incomplete)) ?? 0;
  if (got !== size) {
    if (got > size) await fs.rm(incomplete, { force: true });
    throw new HubError(
      `Downloaded ${got} bytes of ${req.filename} of ${req.repoId}, but the hub said ${size}. ${got > size ? 'The partial file was removed' : 'The partial file was kept'}; run again to retry.`,
    );
  }
  if (sha256) {
    const digest = (hash && hashed === size ? hash : await hashPrefix(incomplete, size)).digest('hex');
    if (digest !== sha256) {
      await fs.rm(incomplete, { force: true });
      throw new HubError(
        `The bytes of ${req.filename} of ${req.repoId} do not match the sha256 the hub announced (${sha256}; got ${digest}); the download was removed and is not used. Run again; if it persists, a proxy or the network alters the file.`,
      );
    }
  }
  await fs.rename(incomplete, blob);
}

/** A sha256 fed with the first `n` bytes of `file`. */
async function hashPrefix(file: string, n: number): Promise<Hash> {
  const hash = createHash('sha256');
  if (n === 0) return hash;
  for await (const chunk of createReadStream(file, { start: 0, end: n - 1 })) hash.update(chunk as Buffer);
  return hash;
}

/**
 * Appends the body to `file` from `start`, never past `size`: a body that goes on is cut off at the
 * announced size with a `HubError` (and the file removed). Returns the bytes the file then holds.
 */
async function writeBody(
  chunks: AsyncGenerator<Uint8Array>,
  file: string,
  start: number,
  size: number,
  phase: string,
  opts: HubOptions,
  req: FileRequest,
  hash?: Hash,
): Promise<number> {
  const handle = await fs.open(file, start === 0 ? 'w' : 'a');
  let overflow = false;
  let done = start;
  try {
    opts.onProgress?.({ phase, done, total: size, unit: 'bytes' });
    for await (let value of chunks) {
      if (done + value.byteLength > size) {
        value = value.subarray(0, size - done);
        overflow = true;
      }
      await handle.write(value);
      hash?.update(value);
      done += value.byteLength;
      opts.onProgress?.({ phase, done, total: size, unit: 'bytes' });
      if (overflow) break; // leaves the loop: the connection is closed
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (overflow) {
    await fs.rm(file, { force: true });
    throw new HubError(
      `The hub sent more than the ${size} bytes it announced for ${req.filename} of ${req.repoId}; the transfer was cut off at ${size} bytes and removed. Run again; if it persists, the server or a proxy in between is broken.`,
    );
  }
  return done;
}
