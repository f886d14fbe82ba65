import { InvalidArgumentError, PersonaFileError } from '../errors.js';

/** The model a persona was computed on. A persona only applies to a model of the same shape. */
export interface PersonaModelInfo {
  id: string;
  revision?: string;
  modelType: string;
  hiddenSize: number;
  numLayers: number;
}

export interface LayerStats {
  layer: number;
  /** ‖positive mean − negative mean‖ */
  norm: number;
  /** Mean ‖residual‖ at this layer over the extraction activations. */
  residNorm: number;
  /** Cohen's d of positive vs negative activations projected on the direction. */
  separation: number;
  /** Steering effect per unit alpha from the quick check (when measured). */
  steerability?: number;
  /** End-of-turn rate under steering in the quick check. */
  coherence?: number;
}

/** How pair activations become a direction (`persona/aggregators.ts`, docs/methods.md); `pca` is uncentred. */
export type ExtractionMethod = 'mean-diff' | 'pca' | 'pca-centred' | 'probe';
/** Where activations are read (docs/methods.md): answer mean, prompt mean, last prompt token, or the answer token of an A/B prefix (CAA). */
export type Reading = 'response-mean' | 'prompt-mean' | 'prompt-last' | 'answer-token';

/**
 * A record written before the reading had its own name stored it as `positions` (the word steering
 * uses for where a vector is applied): read it as `read`.
 *
 * @example const meta = withReadKey(JSON.parse(text)); // { ..., read: 'response-mean' }
 */
export function withReadKey<T>(raw: T): T {
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && 'positions' in raw && !('read' in raw)) {
    const { positions, ...rest } = raw as Record<string, unknown>;
    return { ...rest, read: positions } as T;
  }
  return raw;
}

export interface PersonaMeta {
  name: string;
  description?: string;
  model: PersonaModelInfo;
  method: ExtractionMethod;
  /** Where the activations were read (`persona train --read`). */
  read: Reading;
  recommendedLayer: number;
  /**
   * Layers steered together by default, when more than one (an imported multi-layer control vector
   * steers every layer it holds, as llama.cpp applies it); absent: `[recommendedLayer]`.
   */
  recommendedLayers?: number[];
  alphaRange: [number, number];
  layers: LayerStats[];
  prompts?: {
    positive: number;
    negative: number;
    sha256: string;
    systemPositive?: string[];
    systemNegative?: string[];
    samplesPerQuestion?: number;
    filter?: PairFilterRecord;
  };
  createdAt: string;
  toolVersion: string;
  /** System prompt that elicits the persona (for evaluation's "prompted" baseline). */
  systemPrompt?: string;
  /** What the steering check measured (`recommendSteering`): whether the vector steers this model, and how much. */
  steering?: SteeringVerdict;
}

/**
 * Which answer pairs the vector was learned from, when a filter chose them (`train --filter-judge`):
 * what decided, its bounds, and how many pairs were kept and dropped.
 *
 * @example const f: PairFilterRecord = { by: 'judge gpt-4.1-mini at http://127.0.0.1:8000/v1', thresholds: { positive: 50, negative: 50, coherence: 50 }, pairs: 100, kept: 87, dropped: 13, unscored: 0 };
 */
export interface PairFilterRecord {
  by: string;
  /** Kept: positive trait ≥ `positive`, negative trait < `negative`, coherence ≥ `coherence` on both (judge scores 0–100). */
  thresholds?: { positive: number; negative: number; coherence: number };
  pairs: number;
  kept: number;
  dropped: number;
  /** Dropped pairs with an answer the judge could not score. */
  unscored?: number;
}

/**
 * The measured verdict of the steering check recorded in a persona file: `steers` with the effect at
 * the recommended layer and alpha (mean and interval, on held-out requests), or `does-not-steer` when
 * no layer's interval excludes zero toward the persona (then `recommendedLayer`/`alphaRange` are not advice).
 *
 * @example const v: SteeringVerdict = { verdict: 'steers', metric: 'formality', metricSource: 'scorer', layer: 1, alpha: 4, effect: { mean: 0.6, lo: 0.4, hi: 0.8, level: 0.95 }, ended: 0.94, questions: 32, seed: 0, reason: '…' };
 */
export interface SteeringVerdict {
  verdict: 'steers' | 'does-not-steer';
  /** The trait metric the effect is measured in (`projection:NAME` when only the persona's own projection was available). */
  metric: string;
  /** `scorer`: an independent trait scorer; `projection`: the persona's own projection (weaker evidence). */
  metricSource: 'scorer' | 'projection';
  layer?: number;
  alpha?: number;
  effect?: { mean: number; lo: number; hi: number; level: number };
  /** End-of-turn rate at the recommended cell. */
  ended?: number;
  questions: number;
  /** Where the held-out requests came from when not the model's own set (e.g. a trait artefact's eval file). */
  questionsFrom?: string;
  seed: number;
  reason: string;
}

/**
 * A persona vector: one raw direction per decoder layer (positive mean − negative mean of the
 * residual stream after block l), plus metadata. A plain value: arithmetic returns new vectors.
 *
 * @example
 * const formal = await loadPersona('personas/formal.persona.json');
 * const mixed = formal.scale(0.5).add(vivid);   // same model required
 */
export class PersonaVector {
  constructor(
    readonly vectors: Float32Array[],
    readonly meta: PersonaMeta,
  ) {
    if (vectors.length !== meta.model.numLayers)
      throw new PersonaFileError(`Persona ${meta.name} has ${vectors.length} layer vectors but its model has ${meta.model.numLayers} layers.`);
    vectors.forEach((v, l) => {
      if (v.length !== meta.model.hiddenSize)
        throw new PersonaFileError(`Persona ${meta.name}: layer ${l} vector has ${v.length} values, hidden size is ${meta.model.hiddenSize}.`);
      for (let i = 0; i < v.length; i++) {
        if (!Number.isFinite(v[i]))
          throw new PersonaFileError(`Persona ${meta.name}: layer ${l} contains ${v[i]} at index ${i}; the vector is corrupt (NaN/Inf). Recompute it.`);
      }
    });
  }

  get name(): string {
    return this.meta.name;
  }

  get numLayers(): number {
    return this.vectors.length;
  }

  get hiddenSize(): number {
    return this.meta.model.hiddenSize;
  }

  layer(l: number): Float32Array {
    return this.vectors[normalizeLayer(l, this.numLayers)];
  }

  norm(l: number): number {
    return Math.hypot(...this.layer(l));
  }

  /** The unit direction at layer l (zeros for a zero vector). */
  unit(l: number): Float32Array {
    const v = this.layer(l);
    const n = this.norm(l);
    return n > 0 ? v.map((x) => x / n) : new Float32Array(v.length);
  }

  /**
   * A new vector with metadata made true for it: per-layer norms recomputed from the new vectors,
   * the measured statistics that no longer hold (separation, steerability, coherence, the steering
   * verdict) dropped, and the alpha range as `alphaRange` says (omitted: the old one).
   */
  private derive(vectors: Float32Array[], name: string, alphaRange: [number, number] = this.meta.alphaRange, keepSeparationSign?: number): PersonaVector {
    const layers = this.meta.layers.map((s) => ({
      layer: s.layer,
      norm: Math.hypot(...(vectors[s.layer] ?? [])),
      residNorm: s.residNorm,
      separation: keepSeparationSign === undefined ? 0 : keepSeparationSign * s.separation,
    }));
    const { steering: _stale, ...rest } = this.meta;
    return new PersonaVector(vectors, { ...rest, name, alphaRange, layers });
  }

  /**
   * k·v. Norms scale by |k|; the alpha range is divided by k (alpha·(k·v) = (alpha·k)·v, so the same
   * steering takes alphas k times smaller) and flipped for k < 0; separation keeps its size (its sign
   * flips with k). For k > 0 the steering verdict is kept (the same direction steers the same way;
   * its alpha is divided by k and the reason says so); for k ≤ 0 it is dropped (the opposite
   * direction was not measured). k = 0 gives a zero vector that steers nothing.
   */
  scale(k: number): PersonaVector {
    if (!Number.isFinite(k)) throw new InvalidArgumentError(`Scale must be a finite number; got ${k}.`);
    const [lo, hi] = this.meta.alphaRange;
    const range: [number, number] = k === 0 ? [0, 0] : k > 0 ? [lo / k, hi / k] : [hi / k, lo / k];
    const scaled = this.derive(
      this.vectors.map((v) => v.map((x) => x * k)),
      `${this.name}*${k}`,
      range,
      Math.sign(k),
    );
    const v = this.meta.steering;
    if (!(k > 0 && v)) return scaled;
    const steering: SteeringVerdict = {
      ...v,
      ...(v.alpha !== undefined ? { alpha: v.alpha / k } : {}),
      reason: `${v.reason} (Measured on the unscaled vector; this one is scaled by ${k}${v.alpha !== undefined ? `, so the same steering is alpha ${v.alpha / k}` : ''}.)`,
    };
    return new PersonaVector(scaled.vectors, { ...scaled.meta, steering });
  }

  /** −v: norms kept, the alpha range mirrored, separation negated. */
  neg(): PersonaVector {
    const [lo, hi] = this.meta.alphaRange;
    return this.derive(
      this.vectors.map((v) => v.map((x) => -x)),
      `-${this.name}`,
      [-hi, -lo],
      -1,
    );
  }

  /**
   * v + w (same model). Norms are recomputed; separation and the steering verdict are dropped (they
   * were measured for v alone), and the recommended layer and alpha range stay v's as a starting
   * point only: measure the sum (`persona analyze-layers`) before trusting them.
   */
  add(other: PersonaVector): PersonaVector {
    assertSameModel(this, other);
    return this.derive(
      this.vectors.map((v, l) => v.map((x, i) => x + other.vectors[l][i])),
      `${this.name}+${other.name}`,
    );
  }

  sub(other: PersonaVector): PersonaVector {
    return this.add(other.neg());
  }

  /** Checks the persona fits a model's shape (and warns nothing: a mismatch is an error). */
  assertFits(model: { numLayers: number; hiddenSize: number; id?: string }): void {
    if (model.hiddenSize !== this.hiddenSize || model.numLayers !== this.numLayers) {
      throw new PersonaFileError(
        `Persona "${this.name}" was made for ${this.meta.model.id} (${this.numLayers} layers × hidden ${this.hiddenSize}), but the model ${model.id ?? ''} has ${model.numLayers} layers × hidden ${model.hiddenSize}. Use a persona computed on this model (persona train/create --model …).`,
      );
    }
  }
}

export function assertSameModel(a: PersonaVector, b: PersonaVector): void {
  if (a.hiddenSize !== b.hiddenSize || a.numLayers !== b.numLayers) {
    throw new InvalidArgumentError(
      `Cannot combine persona "${a.name}" (${a.numLayers}×${a.hiddenSize}) with "${b.name}" (${b.numLayers}×${b.hiddenSize}): they belong to different models.`,
    );
  }
}

/** Layer index with negatives counted from the end, validated. */
export function normalizeLayer(l: number, numLayers: number): number {
  if (!Number.isInteger(l)) throw new InvalidArgumentError(`Layer must be an integer; got ${l}.`);
  const n = l < 0 ? numLayers + l : l;
  if (n < 0 || n >= numLayers)
    throw new InvalidArgumentError(`Layer ${l} is out of range: the model has ${numLayers} decoder layers (0–${numLayers - 1}, or negative from the end).`);
  return n;
}
