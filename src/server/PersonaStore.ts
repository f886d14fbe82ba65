import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PersonaError } from '../errors.js';
import type { PersonaVector } from '../steering/PersonaVector.js';
import { PERSONA_FORMAT, loadPersona, savePersona } from '../steering/personaFile.js';
import { steeringWarning } from '../steering/steeringWarning.js';
import { PERSONA_SUFFIX as SUFFIX, listPersonaFiles } from '../util/listPersonaFiles.js';
import { ApiError } from './ApiError.js';
import { personaNameProblem } from './personaName.js';
/** Longest description or system prompt an upload may carry, in characters. */
const MAX_TEXT_FIELD = 4096;
/** Largest persona metadata (JSON) an upload may carry. */
const MAX_META_BYTES = 256 * 1024;

/**
 * What the server says about a persona (snake_case, as the rest of the API).
 *
 * @example const { data } = (await (await fetch(`${url}/v1/personas`)).json()) as { data: PersonaSummary[] };
 */
export interface PersonaSummary {
  object: 'persona';
  id: string;
  name: string;
  description: string | null;
  recommended_layer: number;
  alpha_range: [number, number];
  model: { id: string; model_type: string; num_layers: number; hidden_size: number };
  method: string;
  /** Where its activations were read (`response-mean`, …; not where it steers). */
  read: string;
  created_at: string;
  /** Whether the persona's shape matches the served model (only those steer). */
  fits_model: boolean;
  /** The steering check's verdict recorded in the persona file (null when it records none). */
  steering_verdict: 'steers' | 'does-not-steer' | null;
  /** With a `does-not-steer` verdict: the warning every completion steered with this persona carries in `persona_warnings`; else null. */
  warning: string | null;
}

/**
 * A persona's summary plus its per-layer statistics and provenance (`GET /v1/personas/:name`).
 *
 * @example const detail: PersonaDetail = store.detail('formal', await store.get('formal'));
 */
export interface PersonaDetail extends PersonaSummary {
  system_prompt: string | null;
  layers: { layer: number; norm: number; resid_norm: number; separation: number; steerability: number | null; coherence: number | null }[];
  prompts: { positive: number; negative: number; sha256: string } | null;
  tool_version: string;
}

type ModelShape = { numLayers: number; hiddenSize: number; id?: string };

/**
 * The personas of one folder, referred to by name only: `name` ↔ `<dir>/<name>.persona.json` (+ its
 * safetensors sidecar). Loads are cached until the file changes; uploads are validated (schema, shapes,
 * NaN/Inf, fit to the served model) in a private temp folder and then written with `savePersona`'s
 * atomic writes, so the folder never holds a half-written or invalid persona.
 *
 * @example
 * const store = new PersonaStore('personas', engine.info);
 * const formal = await store.get('formal');
 */
export class PersonaStore {
  private cache = new Map<string, { mtimeMs: number; size: number; persona: PersonaVector }>();
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly model: ModelShape,
  ) {}

  /** The JSON file of a persona name (the name is checked first: never a path). */
  private fileOf(name: string): string {
    const problem = personaNameProblem(name);
    if (problem) throw new ApiError(400, problem, 'invalid_request_error', { param: 'persona', code: 'invalid_persona_name' });
    const file = path.join(this.dir, name + SUFFIX);
    if (path.dirname(path.resolve(file)) !== path.resolve(this.dir))
      throw new ApiError(400, `"${name}" is not a persona name.`, 'invalid_request_error', { param: 'persona' });
    return file;
  }

  /** Names of the persona files in the folder (sorted). */
  async names(): Promise<string[]> {
    return (await listPersonaFiles(this.dir)).map((e) => e.name).filter((n) => personaNameProblem(n) === null);
  }

  /**
   * Loads a persona by name (404 when there is none; 500 when its file is broken).
   *
   * @example const p = await store.get('formal');
   */
  async get(name: string): Promise<PersonaVector> {
    const file = this.fileOf(name);
    let stat;
    try {
      stat = await fs.stat(file);
    } catch {
      throw new ApiError(404, `No persona named "${name}" on this server. GET /v1/personas lists them.`, 'not_found_error', {
        param: 'persona',
        code: 'persona_not_found',
      });
    }
    const hit = this.cache.get(name);
    if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) return hit.persona;
    try {
      const persona = await loadPersona(file);
      this.cache.set(name, { mtimeMs: stat.mtimeMs, size: stat.size, persona });
      return persona;
    } catch (err) {
      throw new ApiError(500, `The persona "${name}" on this server cannot be loaded: ${(err as Error).message}`, 'server_error', {
        param: 'persona',
        code: 'persona_unusable',
      });
    }
  }

  /** A persona that must steer the served model (400 when made for another model's shape). */
  async forSteering(name: string): Promise<PersonaVector> {
    const p = await this.get(name);
    try {
      p.assertFits(this.model);
    } catch (err) {
      throw new ApiError(400, (err as Error).message, 'invalid_request_error', { param: 'persona', code: 'persona_model_mismatch' });
    }
    return p;
  }

  /**
   * The loadable personas' summaries, a page at a time in name order (`after`: the last name of the
   * previous page), plus the files of that page that failed to load.
   *
   * @example const { personas, hasMore } = await store.list({ limit: 100 });
   */
  async list(
    opts: { limit?: number; after?: string } = {},
  ): Promise<{ personas: PersonaSummary[]; errors: { name: string; message: string }[]; hasMore: boolean }> {
    const personas: PersonaSummary[] = [];
    const errors: { name: string; message: string }[] = [];
    const all = (await this.names()).filter((n) => opts.after === undefined || n > opts.after);
    const page = all.slice(0, opts.limit ?? all.length);
    for (const name of page) {
      try {
        personas.push(this.summary(name, await this.get(name)));
      } catch (err) {
        errors.push({ name, message: (err as Error).message });
      }
    }
    return { personas, errors, hasMore: page.length < all.length };
  }

  summary(name: string, p: PersonaVector): PersonaSummary {
    const m = p.meta;
    return {
      object: 'persona',
      id: name,
      name: m.name,
      description: m.description ?? null,
      recommended_layer: m.recommendedLayer,
      alpha_range: m.alphaRange,
      model: { id: m.model.id, model_type: m.model.modelType, num_layers: m.model.numLayers, hidden_size: m.model.hiddenSize },
      method: m.method,
      read: m.read,
      created_at: m.createdAt,
      fits_model: m.model.numLayers === this.model.numLayers && m.model.hiddenSize === this.model.hiddenSize,
      steering_verdict: m.steering?.verdict ?? null,
      warning: steeringWarning(p),
    };
  }

  detail(name: string, p: PersonaVector): PersonaDetail {
    const m = p.meta;
    return {
      ...this.summary(name, p),
      system_prompt: m.systemPrompt ?? null,
      layers: m.layers.map((l) => ({
        layer: l.layer,
        norm: l.norm,
        resid_norm: l.residNorm,
        separation: l.separation,
        steerability: l.steerability ?? null,
        coherence: l.coherence ?? null,
      })),
      prompts: m.prompts ? { positive: m.prompts.positive, negative: m.prompts.negative, sha256: m.prompts.sha256 } : null,
      tool_version: m.toolVersion,
    };
  }

  /**
   * Adds a persona from its JSON metadata (as in a `.persona.json` file; `vectors` is ignored) and its
   * safetensors sidecar bytes. Validated by loading it from a private temp folder and checking it fits
   * the served model; stored as `<dir>/<name>.persona.json` + sidecar with atomic writes. An existing
   * name is a 409: personas are never overwritten in place.
   *
   * @example await store.add(JSON.parse(metaText), await fs.readFile('calm.persona.safetensors'));
   */
  add(meta: unknown, sidecar: Uint8Array, opts: { maxFolderBytes?: number } = {}): Promise<PersonaDetail> {
    // One upload at a time: the existence check and the write cannot interleave.
    const run = this.writing.then(() => this.addNow(meta, sidecar, opts.maxFolderBytes ?? Infinity));
    this.writing = run.catch(() => {});
    return run;
  }

  /** Bytes of the files in the folder (not recursive). */
  private async folderBytes(): Promise<number> {
    let total = 0;
    for (const f of await fs.readdir(this.dir).catch(() => [] as string[])) total += (await fs.stat(path.join(this.dir, f)).catch(() => null))?.size ?? 0;
    return total;
  }

  private async addNow(meta: unknown, sidecar: Uint8Array, maxFolderBytes: number): Promise<PersonaDetail> {
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta))
      throw new ApiError(400, 'meta must be the persona JSON object (the content of a .persona.json file).', 'invalid_request_error', { param: 'meta' });
    const m = meta as Record<string, unknown>;
    for (const key of ['description', 'systemPrompt'] as const) {
      if (typeof m[key] === 'string' && (m[key] as string).length > MAX_TEXT_FIELD) {
        throw new ApiError(400, `meta.${key} has ${(m[key] as string).length} characters; at most ${MAX_TEXT_FIELD} are stored.`, 'invalid_request_error', {
          param: `meta.${key}`,
          code: 'field_too_long',
        });
      }
    }
    const textBytes = JSON.stringify(meta).length;
    if (textBytes > MAX_META_BYTES)
      throw new ApiError(400, `meta is ${textBytes} bytes of JSON; a persona's metadata is at most ${MAX_META_BYTES}.`, 'invalid_request_error', {
        param: 'meta',
        code: 'field_too_long',
      });
    if (
      typeof m.recommendedLayer === 'number' &&
      (!Number.isInteger(m.recommendedLayer) || m.recommendedLayer < 0 || m.recommendedLayer >= this.model.numLayers)
    ) {
      throw new ApiError(
        400,
        `meta.recommendedLayer ${m.recommendedLayer} is not a layer of the served model (0 to ${this.model.numLayers - 1}).`,
        'invalid_request_error',
        { param: 'meta.recommendedLayer', code: 'invalid_layer' },
      );
    }
    const used = await this.folderBytes();
    if (used + sidecar.byteLength + textBytes > maxFolderBytes) {
      throw new ApiError(
        507,
        `The persona folder holds ${used} bytes; this upload would take it past the server's limit of ${maxFolderBytes} (--max-persona-folder-bytes).`,
        'server_error',
        { code: 'persona_storage_full' },
      );
    }
    const name = (meta as { name?: unknown }).name;
    if (typeof name !== 'string')
      throw new ApiError(400, 'meta.name must be a string: the name the persona is stored and referred to by.', 'invalid_request_error', {
        param: 'meta.name',
      });
    const problem = personaNameProblem(name);
    if (problem) throw new ApiError(400, `meta.name: ${problem}`, 'invalid_request_error', { param: 'meta.name', code: 'invalid_persona_name' });
    const target = this.fileOf(name);

    const staging = await fs.mkdtemp(path.join(os.tmpdir(), 'persona-upload-'));
    let persona: PersonaVector;
    try {
      const stagedJson = path.join(staging, 'upload' + SUFFIX);
      await fs.writeFile(path.join(staging, 'upload.persona.safetensors'), sidecar);
      await fs.writeFile(stagedJson, JSON.stringify({ format: PERSONA_FORMAT, ...meta, vectors: 'upload.persona.safetensors' }));
      try {
        persona = await loadPersona(stagedJson);
      } catch (err) {
        const msg = (err as Error).message
          .replaceAll(stagedJson, 'the uploaded persona')
          .replaceAll(path.join(staging, 'upload.persona.safetensors'), 'the uploaded vectors');
        throw new ApiError(400, `The uploaded persona is invalid: ${msg}`, 'invalid_request_error', { code: 'invalid_persona' });
      }
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
    try {
      persona.assertFits(this.model);
    } catch (err) {
      throw new ApiError(400, `The uploaded persona does not fit the served model: ${(err as Error).message}`, 'invalid_request_error', {
        code: 'persona_model_mismatch',
      });
    }
    try {
      await fs.access(target);
      throw new ApiError(409, `A persona named "${name}" already exists on this server; upload it under another name.`, 'conflict_error', {
        param: 'meta.name',
        code: 'persona_exists',
      });
    } catch (err) {
      if (err instanceof ApiError) throw err;
    }
    try {
      await savePersona(persona, target);
    } catch (err) {
      throw new PersonaError(`Could not store the persona "${name}": ${(err as Error).message}`);
    }
    return this.detail(name, await this.get(name));
  }
}
