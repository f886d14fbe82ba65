import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PersonaFileError } from '../errors.js';
import { SafetensorsFile } from '../model/safetensors/SafetensorsFile.js';
import { encodeSafetensors } from '../model/safetensors/writeSafetensors.js';
import { atomicWrite } from '../util/atomicWrite.js';
import { checkOutputTarget } from '../util/checkOutputTarget.js';
import { readJsonFileIfValid } from '../util/readJsonFile.js';
import { withFileLock } from '../util/withFileLock.js';
import { wrapWriteError } from '../util/wrapWriteError.js';
import { locatePersona } from './locatePersona.js';
import { PersonaVector, withReadKey, type PersonaMeta } from './PersonaVector.js';

export const PERSONA_FORMAT = 'persona-vectors/persona@1';

const layerStats = z.object({
  layer: z.number().int().nonnegative(),
  norm: z.number(),
  residNorm: z.number(),
  separation: z.number(),
  steerability: z.number().optional(),
  coherence: z.number().optional(),
});

const metaSchema = z.object({
  format: z.literal(PERSONA_FORMAT),
  name: z.string().min(1),
  description: z.string().optional(),
  model: z.object({
    id: z.string(),
    revision: z.string().optional(),
    modelType: z.string(),
    hiddenSize: z.number().int().positive(),
    numLayers: z.number().int().positive(),
  }),
  method: z.enum(['mean-diff', 'pca', 'pca-centred', 'probe']),
  read: z.enum(['response-mean', 'prompt-mean', 'prompt-last', 'answer-token']),
  recommendedLayer: z.number().int().nonnegative(),
  recommendedLayers: z.array(z.number().int().nonnegative()).min(1).optional(),
  alphaRange: z.tuple([z.number(), z.number()]),
  layers: z.array(layerStats),
  prompts: z
    .object({
      positive: z.number(),
      negative: z.number(),
      sha256: z.string(),
      systemPositive: z.array(z.string()).optional(),
      systemNegative: z.array(z.string()).optional(),
      samplesPerQuestion: z.number().int().positive().optional(),
      filter: z
        .object({
          by: z.string(),
          thresholds: z.object({ positive: z.number(), negative: z.number(), coherence: z.number() }).optional(),
          pairs: z.number().int(),
          kept: z.number().int(),
          dropped: z.number().int(),
          unscored: z.number().int().optional(),
        })
        .optional(),
    })
    .optional(),
  createdAt: z.string(),
  toolVersion: z.string(),
  systemPrompt: z.string().optional(),
  steering: z
    .object({
      verdict: z.enum(['steers', 'does-not-steer']),
      metric: z.string(),
      metricSource: z.enum(['scorer', 'projection']),
      layer: z.number().int().nonnegative().optional(),
      alpha: z.number().optional(),
      effect: z.object({ mean: z.number(), lo: z.number(), hi: z.number(), level: z.number() }).optional(),
      ended: z.number().optional(),
      questions: z.number().int(),
      questionsFrom: z.string().optional(),
      seed: z.number().int(),
      reason: z.string(),
    })
    .optional(),
  vectors: z.string(),
  /** sha256 and byte length of the sidecar, checked on load (persona files written before them load without the check). */
  vectorsSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'expected a 64-hex sha256')
    .optional(),
  vectorsBytes: z.number().int().nonnegative().optional(),
});

/** How a persona JSON names its sidecar: `x.persona.json` + sha256 → `x.persona.{16 hex}.safetensors`. */
export function sidecarPath(jsonPath: string, sha256: string): string {
  return path.join(path.dirname(jsonPath), `${sidecarStem(jsonPath)}.${sha256.slice(0, 16)}.safetensors`);
}

function sidecarStem(jsonPath: string): string {
  return path.basename(jsonPath).replace(/\.json$/, '');
}

/** The sidecars a save of `jsonPath` may have left: the old fixed name and content-addressed ones. */
function ownSidecarPattern(jsonPath: string): RegExp {
  return new RegExp(`^${sidecarStem(jsonPath).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.[0-9a-f]{16})?\\.safetensors$`);
}

/** The lock file that serializes writers of one persona: `.x.persona.json.lock` beside it, holding the writer's pid. */
export function personaLockPath(jsonPath: string): string {
  return path.join(path.dirname(jsonPath), `.${path.basename(jsonPath)}.lock`);
}

export interface SavePersonaOptions {
  /** How long to wait for another writer of the same file before giving up (default 30 s). */
  lockTimeoutMs?: number;
  /** Called once the sidecar is on disk and before the JSON is committed (tests crash the process here). */
  beforeCommit?: () => void | Promise<void>;
}

/**
 * Saves a persona: self-describing JSON plus a safetensors sidecar with every layer's raw
 * difference (`layers.{l}`, f32 [H]). The JSON is the single commit point: the sidecar is written
 * first under a content-addressed name (`x.persona.{sha256[:16]}.safetensors`), then the JSON,
 * which names it and carries its sha256 and byte length, is renamed over the old one. A crash in
 * between leaves the old persona loadable as it was (its JSON still names its own sidecar). Writers
 * of one file are serialized by a lock file holding the writer's pid (a lock left by a dead process
 * is taken over); sidecars of this persona that no JSON in the folder names any more are removed.
 * The output is checked first (a folder, FIFO, device or link is refused, never replaced).
 *
 * @example await savePersona(vector, 'personas/formal.persona.json');
 */
export async function savePersona(p: PersonaVector, jsonPath: string, opts: SavePersonaOptions = {}): Promise<void> {
  await checkOutputTarget(jsonPath);
  const tensors = Object.fromEntries(p.vectors.map((v, l) => [`layers.${l}`, { shape: [v.length], data: v }]));
  const bytes = encodeSafetensors(tensors, { format: PERSONA_FORMAT, name: p.name });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const side = sidecarPath(jsonPath, sha256);
  const doc = { format: PERSONA_FORMAT, ...p.meta, vectors: path.basename(side), vectorsSha256: sha256, vectorsBytes: bytes.byteLength };
  try {
    await fs.mkdir(path.dirname(path.resolve(jsonPath)), { recursive: true });
  } catch (err) {
    throw wrapWriteError(err, jsonPath);
  }
  await withFileLock(
    personaLockPath(jsonPath),
    async () => {
      const existed = await fs.lstat(side).then(
        () => true,
        () => false,
      );
      try {
        await atomicWrite(side, bytes);
        await opts.beforeCommit?.();
        await atomicWrite(jsonPath, JSON.stringify(doc, null, 1) + '\n');
      } catch (err) {
        // No orphan: a sidecar this call created goes when its JSON could not be committed.
        if (!existed) await fs.rm(side, { force: true }).catch(() => {});
        throw err;
      }
      await removeUnreferencedSidecars(jsonPath, path.basename(side));
    },
    { timeoutMs: opts.lockTimeoutMs ?? 30_000, what: jsonPath },
  );
}

/** Removes this persona's earlier sidecars unless some JSON in the folder still names them. */
async function removeUnreferencedSidecars(jsonPath: string, keep: string): Promise<void> {
  const dir = path.dirname(jsonPath);
  const pattern = ownSidecarPattern(jsonPath);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((n) => n !== keep && pattern.test(n));
  if (stale.length === 0) return;
  const referenced = new Set<string>();
  for (const n of names) {
    if (!n.endsWith('.json') || n === path.basename(jsonPath)) continue;
    const st = await fs.lstat(path.join(dir, n)).catch(() => undefined);
    if (!st?.isFile() || st.size > MAX_JSON_BYTES) continue;
    const ref = ((await readJsonFileIfValid(path.join(dir, n))) as { vectors?: unknown } | null | undefined)?.vectors;
    if (typeof ref === 'string') referenced.add(path.basename(ref));
  }
  for (const n of stale) if (!referenced.has(n)) await fs.rm(path.join(dir, n), { force: true }).catch(() => {});
}

/**
 * Loads and validates a persona file (schema, sidecar present, shapes, no NaN/Inf). `ref` is a
 * path or a persona name (`'formal'`: the shipped personas and `$PERSONA_PATH`, see `locatePersona`).
 * The sidecar must be a regular file in the JSON's folder (no `../`, absolute path or link out of
 * it) and match the `vectorsSha256`/`vectorsBytes` the JSON carries; files written before those
 * fields existed (the shipped personas among them) still load, without the check.
 *
 * @example const formal = await loadPersona('formal');   // or 'personas/formal.persona.json'
 */
export async function loadPersona(ref: string): Promise<PersonaVector> {
  const jsonPath = await locatePersona(ref);
  // A writer may commit a new JSON and remove the sidecar the old one named while this reads: read
  // again, twice at once, then while the JSON keeps changing (a writer at work) with growing pauses.
  let previous: string | undefined;
  for (let attempt = 0; ; attempt++) {
    const text = await readPersonaJson(jsonPath);
    try {
      return await loadFromText(jsonPath, text);
    } catch (err) {
      const writerBusy = attempt < 2 || text !== previous;
      if (!(err instanceof SidecarMissingError) || !writerBusy || attempt >= 8) throw err;
      previous = text;
      if (attempt >= 2) await new Promise((r) => setTimeout(r, 2 ** attempt));
    }
  }
}

/** The sidecar a persona JSON names went missing (possibly replaced by a concurrent save). */
class SidecarMissingError extends PersonaFileError {}

function sidecarMissing(jsonPath: string, side: string): SidecarMissingError {
  return new SidecarMissingError(`The vectors of persona ${jsonPath} are missing: expected the sidecar ${side} beside it. Copy both files together.`);
}

const MAX_JSON_BYTES = 16 * 1024 * 1024;
const MAX_SIDECAR_BYTES = 1024 * 1024 * 1024;

async function readPersonaJson(jsonPath: string): Promise<string> {
  let st;
  try {
    st = await fs.stat(jsonPath);
  } catch {
    throw new PersonaFileError(`Persona file ${jsonPath} not found.`);
  }
  if (!st.isFile()) throw new PersonaFileError(`Persona file ${jsonPath} is not a regular file (a folder, pipe or device); give a .persona.json file.`);
  if (st.size > MAX_JSON_BYTES)
    throw new PersonaFileError(`Persona file ${jsonPath} is ${st.size} bytes, more than a persona file can be (${MAX_JSON_BYTES}); it is not a persona file.`);
  try {
    return await fs.readFile(jsonPath, 'utf8');
  } catch (err) {
    throw new PersonaFileError(`Cannot read persona file ${jsonPath} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
}

async function loadFromText(jsonPath: string, text: string): Promise<PersonaVector> {
  let side = '';
  try {
    return await parseAndRead(jsonPath, text, (s) => (side = s));
  } catch (err) {
    if (side && isNotFound(err)) throw sidecarMissing(jsonPath, side);
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) if (e.code === 'ENOENT') return true;
  return false;
}

async function parseAndRead(jsonPath: string, text: string, onSidecar: (side: string) => void): Promise<PersonaVector> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // The parser's message quotes the file's bytes: say only that it is not JSON.
    throw new PersonaFileError(`Persona file ${jsonPath} is not valid JSON; it is corrupt or not a persona file.`);
  }
  const parsed = metaSchema.safeParse(withReadKey(raw));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PersonaFileError(`Persona file ${jsonPath} is malformed: ${issue.path.join('.') || '(root)'}: ${issue.message}.`);
  }
  const { vectors: sideName, vectorsSha256, vectorsBytes, format: _format, ...meta } = parsed.data;
  const side = await confinedSidecar(jsonPath, sideName);
  onSidecar(side);
  let bytes: Buffer | undefined;
  if (vectorsSha256 !== undefined || vectorsBytes !== undefined) {
    const size = (await fs.stat(side)).size;
    if (vectorsBytes !== undefined && size !== vectorsBytes) {
      throw new PersonaFileError(
        `The vectors of persona ${jsonPath} do not match it: ${side} has ${size} bytes, the persona says ${vectorsBytes}. The pair is inconsistent (an interrupted or concurrent write?); save the persona again.`,
      );
    }
    if (size > MAX_SIDECAR_BYTES) throw new PersonaFileError(`Sidecar ${side} of persona ${jsonPath} is ${size} bytes, more than a persona's vectors can be.`);
    bytes = await fs.readFile(side);
    const got = createHash('sha256').update(bytes).digest('hex');
    if (vectorsSha256 !== undefined && got !== vectorsSha256) {
      throw new PersonaFileError(
        `The vectors of persona ${jsonPath} do not match it: the sha256 of ${side} is ${got}, the persona says ${vectorsSha256}. The pair is inconsistent (an interrupted or concurrent write, or an edited sidecar); save the persona again.`,
      );
    }
  }
  let st: SafetensorsFile;
  try {
    st = await SafetensorsFile.open(side);
  } catch (err) {
    if (isNotFound(err)) throw err;
    throw new PersonaFileError(`Sidecar ${side} of persona ${jsonPath} is not a valid safetensors file; it is corrupt. Save or copy the persona again.`, {
      cause: err,
    });
  }
  const vectors: Float32Array[] = [];
  for (let l = 0; l < meta.model.numLayers; l++) {
    if (!st.tensors.has(`layers.${l}`)) throw new PersonaFileError(`Sidecar ${side} has no tensor layers.${l}; it does not match ${jsonPath}.`);
    vectors.push(await st.readFloat32(`layers.${l}`));
  }
  try {
    return new PersonaVector(vectors, meta as PersonaMeta);
  } catch (err) {
    if (err instanceof PersonaFileError)
      throw new PersonaFileError(`Persona file ${jsonPath} (vectors in ${side}) is unusable: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * The sidecar a persona JSON names, confined to the JSON's folder: an absolute path, a name that
 * leaves the folder (`../secret.txt`) or a symbolic link that points out of it is refused, and so is
 * anything but a regular file. Errors never quote the file's bytes.
 */
async function confinedSidecar(jsonPath: string, sideName: string): Promise<string> {
  const dir = path.dirname(jsonPath);
  const refuse = (why: string) =>
    new PersonaFileError(
      `Persona file ${jsonPath} names its vectors ${JSON.stringify(sideName)}, ${why}. A persona's sidecar must be a file in the persona's own folder; it was not opened.`,
    );
  if (sideName === '' || path.isAbsolute(sideName) || /^[A-Za-z]:/.test(sideName) || sideName.includes('\0'))
    throw refuse('which is not a file name beside it');
  const side = path.join(dir, sideName);
  const rel = path.relative(path.resolve(dir), path.resolve(side));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw refuse('which is outside its folder');
  let real: string;
  try {
    real = await fs.realpath(side);
  } catch {
    throw sidecarMissing(jsonPath, side);
  }
  const realRel = path.relative(await fs.realpath(dir), real);
  if (realRel === '' || realRel.startsWith('..') || path.isAbsolute(realRel)) throw refuse('a link that points outside its folder');
  // A concurrent save may remove the sidecar between the realpath and this stat: missing, as above.
  const st = await fs.stat(real).catch((err: unknown) => {
    throw isNotFound(err) ? sidecarMissing(jsonPath, side) : err;
  });
  if (!st.isFile()) throw refuse('which is not a regular file');
  return side;
}
