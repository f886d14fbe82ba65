import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CompletionRecord } from '../../src/server/chatCompletion.js';
import { startServer, type PersonaServer, type ServeOptions } from '../../src/server/startServer.js';
import { PERSONAS, ROOT } from '../helpers/paths.js';

export interface TestServer {
  server: PersonaServer;
  /** A private copy of the shipped personas (uploads land here). */
  personasDir: string;
  reportsDir: string;
  /** What the server generated, by completion id. */
  records: Map<string, CompletionRecord>;
  close(): Promise<void>;
}

/** The stylist served on a free port with a private personas folder and a reports folder holding one report. */
export async function startTestServer(opts: ServeOptions = {}): Promise<TestServer> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'persona-serve-test-'));
  const personasDir = path.join(tmp, 'personas');
  const reportsDir = path.join(tmp, 'results');
  await fs.mkdir(personasDir);
  for (const f of await fs.readdir(PERSONAS)) await fs.copyFile(path.join(PERSONAS, f), path.join(personasDir, f));
  await fs.mkdir(path.join(reportsDir, 'formal'), { recursive: true });
  await fs.writeFile(
    path.join(reportsDir, 'formal', 'layers.html'),
    '<!doctype html><title>Layers</title><style>h1{color:#345}</style><h1>Layer analysis: formal</h1><p>Layer 1 steers best.</p>',
  );
  const records = new Map<string, CompletionRecord>();
  const server = await startServer({ port: 0, personasDir, reportsDir, ...opts, onCompletion: (r) => records.set(r.id, r) });
  return {
    server,
    personasDir,
    reportsDir,
    records,
    close: async () => {
      await server.close();
      await fs.rm(tmp, { recursive: true, force: true });
    },
  };
}

/** Screenshots and other artefacts of the server tests (gitignored). */
export const TEST_OUTPUT = path.join(ROOT, 'test-output', 'server');

/** POSTs JSON (or a raw string) and returns status and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the body stays undefined
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
