import { createHash } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

/** A repo the fake hub serves: files by name; `.safetensors` files are served as LFS. */
export interface FakeRepo {
  commit: string;
  files: Record<string, Buffer | string>;
  /** Gated: requests need `Authorization: Bearer {token}`. */
  token?: string;
  /** Serve regular files with a weak `W/"…"` ETag. */
  weakEtag?: boolean;
}

export interface LoggedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
/** A git blob id, the ETag the hub gives regular files. */
export const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
export const isLfs = (name: string) => name.endsWith('.safetensors');

/**
 * A local HTTP server that answers like huggingface.co: `/{org}/{name}/resolve/{revision}/{file}`
 * with X-Repo-Commit and ETag; LFS files redirect (302) to `/cdn/{sha256}` with X-Linked-Etag and
 * X-Linked-Size; Range requests get 206. Switches break transfers on purpose (cut, stalled or endless
 * bodies, stalled HEADs, more bytes than announced).
 */
export class FakeHub {
  readonly requests: LoggedRequest[] = [];
  readonly blobs = new Map<string, Buffer>();
  /** Cut the next `cuts` body transfers after `cutAfter` bytes (the socket is destroyed). */
  cuts = 0;
  cutAfter = 0;
  /** Stall the next body transfer after this many bytes (never ends it). */
  stallAfter?: number;
  /** Reply 200 with the whole file to Range requests. */
  ignoreRange = false;
  /** Added to the X-Linked-Size the hub reports. */
  linkedSizeDelta = 0;
  /** Never answer the next HEAD requests (no status, no headers) while this is above 0. */
  stallHeads = 0;
  /** Send the next body chunked, with no Content-Length, and never end it (the file, then more bytes forever). */
  endlessBody = false;
  /** Send this many bytes more than the file in the next body (and announce them in its Content-Length). */
  extraBytes = 0;

  private constructor(
    private readonly server: http.Server,
    readonly repos: Record<string, FakeRepo>,
    /** Where LFS files redirect to: this server or another ("another host"). */
    private readonly cdn: FakeHub | undefined,
  ) {}

  static async start(repos: Record<string, FakeRepo> = {}, cdn?: FakeHub): Promise<FakeHub> {
    let hub!: FakeHub;
    const server = http.createServer((req, res) => hub.handle(req, res));
    hub = new FakeHub(server, repos, cdn);
    for (const repo of Object.values(repos)) {
      for (const [name, data] of Object.entries(repo.files)) {
        if (isLfs(name)) (cdn ?? hub).blobs.set(sha256(data), Buffer.from(data));
      }
    }
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return hub;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests whose path starts with `prefix`. */
  count(prefix = '/'): number {
    return this.requests.filter((r) => r.url.startsWith(prefix)).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests.push({ method: req.method!, url: req.url!, headers: req.headers });
    if (req.method === 'HEAD' && this.stallHeads > 0) {
      this.stallHeads--;
      return; // hold the request open, answer nothing
    }
    const url = decodeURI(req.url!);
    const cdn = url.match(/^\/cdn\/([0-9a-f]{64})$/);
    if (cdn) {
      const blob = this.blobs.get(cdn[1]);
      if (!blob) return void res.writeHead(404).end();
      return this.serveBody(req, res, blob, { ETag: `"cdn-${cdn[1].slice(0, 8)}"` });
    }
    const m = url.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    if (!m) return void res.writeHead(404).end();
    const [, repoId, revision, file] = m;
    const repo = this.repos[repoId];
    if (!repo) return void res.writeHead(404, { 'X-Error-Code': 'RepoNotFound' }).end();
    if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) {
      return void res.writeHead(req.headers.authorization ? 403 : 401, { 'X-Error-Code': 'GatedRepo' }).end();
    }
    if (revision !== 'main' && revision !== repo.commit) return void res.writeHead(404, { 'X-Error-Code': 'RevisionNotFound' }).end();
    const data = repo.files[file];
    const common = { 'X-Repo-Commit': repo.commit };
    if (data === undefined) return void res.writeHead(404, { ...common, 'X-Error-Code': 'EntryNotFound' }).end();
    const body = Buffer.from(data);
    if (isLfs(file)) {
      const etag = sha256(body);
      const base = this.cdn?.url ?? '';
      return void res
        .writeHead(302, {
          ...common,
          Location: `${base}/cdn/${etag}`,
          'X-Linked-Etag': `"${etag}"`,
          'X-Linked-Size': String(body.length + this.linkedSizeDelta),
          ETag: `W/"redirect"`,
        })
        .end();
    }
    const etag = repo.weakEtag ? `W/"${gitSha1(body)}"` : `"${gitSha1(body)}"`;
    this.serveBody(req, res, body, { ...common, ETag: etag });
  }

  private serveBody(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, headers: Record<string, string>): void {
    const range = req.headers.range?.match(/^bytes=(\d+)-$/);
    let start = 0;
    if (range && !this.ignoreRange) {
      start = Number(range[1]);
      if (start >= body.length) return void res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      headers = { ...headers, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` };
    }
    if (req.method !== 'HEAD' && this.endlessBody) {
      this.endlessBody = false;
      res.writeHead(start > 0 ? 206 : 200, headers); // chunked: no length
      res.write(body.subarray(start));
      const more = Buffer.alloc(64 * 1024, 0x5a);
      const pump = () => {
        while (!res.destroyed && res.write(more));
        if (!res.destroyed) res.once('drain', pump);
      };
      return pump();
    }
    if (req.method !== 'HEAD' && this.extraBytes > 0) {
      const extra = this.extraBytes;
      this.extraBytes = 0;
      res.writeHead(start > 0 ? 206 : 200, { ...headers, 'Content-Length': String(body.length - start + extra) });
      return void res.end(Buffer.concat([body.subarray(start), Buffer.alloc(extra, 1)]));
    }
    res.writeHead(start > 0 ? 206 : 200, { ...headers, 'Content-Length': String(body.length - start), 'Accept-Ranges': 'bytes' });
    if (req.method === 'HEAD') return void res.end();
    const rest = body.subarray(start);
    if (this.stallAfter !== undefined) {
      const n = this.stallAfter;
      this.stallAfter = undefined;
      return void res.write(rest.subarray(0, n));
    }
    if (this.cuts > 0) {
      this.cuts--;
      return void res.write(rest.subarray(0, this.cutAfter), () => setTimeout(() => res.socket?.destroy(), 20));
    }
    res.end(rest);
  }
}

/** A hub-like model repo: config, tokenizer files, and weights of `weightBytes` random-ish bytes. */
export function decoderRepo(commit: string, weightBytes = 300_000): FakeRepo {
  return {
    commit,
    files: {
      'config.json': JSON.stringify({ model_type: 'qwen3', hidden_size: 8 }),
      'tokenizer.json': JSON.stringify({ version: '1.0', model: { type: 'BPE' } }),
      'tokenizer_config.json': JSON.stringify({ chat_template: '{{ messages }}' }),
      'generation_config.json': JSON.stringify({ do_sample: false }),
      'model.safetensors': pseudoRandom(weightBytes, 1),
    },
  };
}

export function pseudoRandom(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export const COMMIT_A = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
export const COMMIT_B = 'b'.repeat(8) + '0123456789abcdef0123456789abcdef';

/** A temp HF home with an empty hub cache (removed when the test ends), and hub options pointing at it and at `hub`. */
export async function tempHubOptions(hub?: FakeHub) {
  const home = await mkdtemp(path.join(os.tmpdir(), 'pv-hub-'));
  onTestFinished(() => rm(home, { recursive: true, force: true }));
  const cacheDir = path.join(home, 'hub');
  // env replaces process.env, so no real HF_TOKEN, token file or HF_HUB_OFFLINE leaks in.
  return { home, cacheDir, opts: { cacheDir, endpoint: hub?.url, env: { HF_HOME: home } as Record<string, string> } };
}
