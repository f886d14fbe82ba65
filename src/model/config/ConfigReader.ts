import { ModelFileError } from '../../errors.js';
import { describeValue } from './describeValue.js';

type Raw = Record<string, unknown>;

/** Bounds for one numeric config value. */
export interface NumberBounds {
  /** Smallest allowed value (inclusive unless `minExclusive`). */
  min?: number;
  minExclusive?: boolean;
  /** Largest allowed value (inclusive). */
  max?: number;
}

/**
 * The largest values the toolkit accepts, well above every published checkpoint of the supported
 * families (the rope tables alone are max_position_embeddings × head_dim floats), so a typo such
 * as `num_hidden_layers: 1e9` is an error naming the key rather than an out-of-memory crash.
 *
 * @example CONFIG_LIMITS.num_hidden_layers; // 1024
 */
export const CONFIG_LIMITS = {
  hidden_size: 1 << 17,
  intermediate_size: 1 << 20,
  num_hidden_layers: 1024,
  num_attention_heads: 1024,
  head_dim: 1024,
  vocab_size: 1 << 24,
  max_position_embeddings: 1 << 20,
} as const;

/**
 * Reads typed, range-checked values out of a parsed `config.json`; every bad value is a
 * `ModelFileError` naming the key and the file.
 *
 * @example
 * const r = new ConfigReader(raw, '/models/qwen3/config.json');
 * const layers = r.int('num_hidden_layers', { min: 1, max: 1024 });
 */
export class ConfigReader {
  constructor(
    readonly raw: Raw,
    /** The file the values came from, for messages. */
    readonly source: string = 'config.json',
  ) {}

  /** A view on a nested object (`rope_scaling`, ...) that names its keys `parent.key` in messages. */
  nested(obj: Raw | null | undefined, prefix: string): ConfigReader {
    const r = new ConfigReader(obj ?? {}, this.source);
    r.prefix = `${this.prefix}${prefix}.`;
    return r;
  }

  private prefix = '';

  fail(key: string, problem: string): never {
    throw new ModelFileError(`${this.source}: "${this.prefix}${key}" ${problem}`);
  }

  /** A finite number within bounds, or `fallback` when the key is absent (an error when there is none). */
  num(key: string, bounds: NumberBounds = {}, fallback?: number): number {
    const v = this.raw[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(key, 'is missing; this architecture needs it.');
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `is ${describeValue(v)}; a finite number was expected.`);
    this.check(key, v, bounds);
    return v;
  }

  /** A whole number within bounds (default: at least 1), or `fallback` when absent. */
  int(key: string, bounds: NumberBounds = {}, fallback?: number): number {
    const v = this.raw[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(key, 'is missing; this architecture needs it.');
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, `is ${describeValue(v)}; a whole number was expected.`);
    this.check(key, v, { min: 1, ...bounds });
    return v;
  }

  /** Like `int`, but null when the key is absent. */
  optInt(key: string, bounds: NumberBounds = {}): number | null {
    const v = this.raw[key];
    return v === undefined || v === null ? null : this.int(key, bounds);
  }

  /** Like `num`, but null when the key is absent. */
  optNum(key: string, bounds: NumberBounds = {}): number | null {
    const v = this.raw[key];
    return v === undefined || v === null ? null : this.num(key, bounds);
  }

  /** A token id or list of them (`eos_token_id`), each a whole number ≥ 0. */
  ids(key: string): number[] {
    const v = this.raw[key];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    for (const id of list) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) this.fail(key, `holds ${describeValue(id)}; token ids are whole numbers ≥ 0.`);
    }
    return list as number[];
  }

  private check(key: string, v: number, b: NumberBounds): void {
    if (b.min !== undefined && (b.minExclusive ? v <= b.min : v < b.min)) {
      this.fail(key, `is ${v}; it must be ${b.minExclusive ? 'greater than' : 'at least'} ${b.min}.`);
    }
    if (b.max !== undefined && v > b.max) this.fail(key, `is ${v}; this toolkit accepts at most ${b.max}.`);
  }
}
