import type { ChatMessage } from '../engine/LanguageModel.js';
import type { Intervention } from '../engine/generate/Intervention.js';
import { InvalidArgumentError } from '../errors.js';
import { normalizeLayer, type PersonaVector } from '../steering/PersonaVector.js';
import { defaultLayers, OPERATORS, resolveSteering, type Operator } from '../steering/resolveSteering.js';

/**
 * The shape of the model being chatted with (an `EngineWorker`'s `info` has it).
 *
 * @example const shape: ChatModelShape = { id: 'stylist', numLayers: 6, hiddenSize: 256 };
 */
export interface ChatModelShape {
  id: string;
  numLayers: number;
  hiddenSize: number;
}

/**
 * How the last answer went: the settings it was written under and how it read on the persona.
 *
 * @example if (session.last?.projection !== null) console.log(`last answer: proj ${session.last!.projection!.toFixed(2)}`);
 */
export interface LastAnswer {
  persona: string | null;
  alpha: number;
  layer: number | null;
  steered: boolean;
  /** Tokens generated (the end-of-turn token included). */
  tokens: number;
  stopped: boolean;
  /** Mean projection of the answer's residual on the persona's unit vector at the layer, in units of the persona's gap; null when not measured. */
  projection: number | null;
}

/**
 * Starting settings of a chat.
 *
 * @example new ChatSession(engine.info, { persona: formal, alpha: 1.2, layer: 3, system: 'Be brief.' });
 */
export interface ChatSessionOptions {
  persona?: PersonaVector | null;
  /** Starting alpha (default 0: the first answer is the unsteered model's). */
  alpha?: number;
  /** Alpha change per ↑/↓ (default: a sixteenth of the persona's alpha range, 0.5 without one). */
  alphaStep?: number;
  /** Layer(s) to steer (default: the persona's recommended layer(s); negative counts from the end). */
  layer?: number | number[] | null;
  /** How to steer (default `add`). */
  operator?: Operator;
  /** For the cap operator: the largest projection allowed on the unit vector. */
  cap?: number;
  steering?: boolean;
  system?: string;
}

/**
 * A round step for ↑/↓: span/16 snapped to 1, 2 or 5 × a power of ten (1 for a −8..8 range).
 *
 * @example defaultAlphaStep(formal); // 1 (its alpha range is -8..8)
 */
export function defaultAlphaStep(persona: PersonaVector | null): number {
  if (!persona) return 0.5;
  const [lo, hi] = persona.meta.alphaRange;
  const raw = (hi - lo) / 16;
  if (!(raw > 0) || !Number.isFinite(raw)) return 0.5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/** Rounds away float fuzz from repeated steps (0.1 + 0.2 → 0.3). */
const tidy = (x: number) => Math.round(x * 1e9) / 1e9;

/**
 * The chat's state, with no I/O: the persona and steering settings, the conversation so far and
 * how the last answer went. Settings change between answers; each answer is generated from
 * `messages(next)` with `intervention()`.
 *
 * @example
 * const session = new ChatSession(engine.info, { persona: formal });
 * session.nudgeAlpha(-3);                    // three ↓ presses: alpha −3
 * const prompt = session.messages('Hi!');    // system + history + the new user message
 * const steer = session.intervention();      // null when off or alpha is 0
 */
export class ChatSession {
  persona: PersonaVector | null;
  alpha: number;
  steering: boolean;
  system: string | undefined;
  /** The conversation: alternating user and assistant messages, oldest first. */
  history: ChatMessage[] = [];
  last: LastAnswer | null = null;
  /** Tokens the last answer's prompt and answer took in the model's context. */
  contextTokens = 0;
  private layerOverride: number[] | null;
  operator: Operator = 'add';
  cap: number | undefined;
  private stepOverride: number | undefined;

  constructor(
    readonly model: ChatModelShape,
    opts: ChatSessionOptions = {},
  ) {
    this.persona = null;
    this.alpha = 0;
    this.steering = opts.steering ?? true;
    this.system = opts.system || undefined;
    this.layerOverride = null;
    if (opts.alphaStep !== undefined) this.setAlphaStep(opts.alphaStep);
    if (opts.persona) this.setPersona(opts.persona);
    if (opts.layer !== undefined && opts.layer !== null) this.setLayer(opts.layer);
    if (opts.alpha !== undefined) this.setAlpha(opts.alpha);
    if (opts.operator !== undefined) this.setOperator(opts.operator, opts.cap);
  }

  /** The decoder layers steered (0-based), or null without a persona. */
  get layers(): number[] | null {
    if (this.layerOverride !== null) return this.layerOverride;
    return this.persona ? defaultLayers(this.persona) : null;
  }

  /** The layer measured (the first one steered), or null without a persona. */
  get layer(): number | null {
    return this.layers?.[0] ?? null;
  }

  /** True when the layer is the persona's recommended one (not set with `/layer` or `--layer`). */
  get layerIsDefault(): boolean {
    return this.layerOverride === null;
  }

  get alphaStep(): number {
    return this.stepOverride ?? defaultAlphaStep(this.persona);
  }

  /** Completed exchanges in the history. */
  get turns(): number {
    return this.history.filter((m) => m.role === 'assistant').length;
  }

  setAlpha(value: number): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidArgumentError(`alpha must be a finite number; got ${value}.`);
    this.alpha = tidy(value);
  }

  setAlphaStep(step: number): void {
    if (!Number.isFinite(step) || step <= 0) throw new InvalidArgumentError(`The alpha step must be a number > 0; got ${step}.`);
    this.stepOverride = step;
  }

  /** Moves alpha by `steps` steps (↑ is +1, ↓ is −1). */
  nudgeAlpha(steps: number): void {
    this.setAlpha(this.alpha + steps * this.alphaStep);
  }

  setSteering(on: boolean | 'toggle'): void {
    this.steering = on === 'toggle' ? !this.steering : on;
  }

  /** Steers at `layer` or layers (negative from the end), or back at the persona's recommended layer(s) with null. */
  setLayer(layer: number | number[] | null): void {
    if (layer === null) {
      this.layerOverride = null;
      return;
    }
    const ls = [...new Set((Array.isArray(layer) ? layer : [layer]).map((l) => normalizeLayer(l, this.model.numLayers)))];
    if (ls.length === 0) throw new InvalidArgumentError('Give at least one layer.');
    this.layerOverride = ls;
  }

  /** How the persona steers: add alpha·v, ablate or cap its direction, or ablate then add. */
  setOperator(operator: Operator, cap?: number): void {
    if (!OPERATORS.includes(operator)) throw new InvalidArgumentError(`operator must be one of ${OPERATORS.join(', ')}; got ${JSON.stringify(operator)}.`);
    if (operator === 'cap' && (typeof cap !== 'number' || !Number.isFinite(cap))) throw new InvalidArgumentError('The cap operator needs a finite cap.');
    this.operator = operator;
    this.cap = operator === 'cap' ? cap : undefined;
  }

  /** True when the operator uses alpha (add, ablate-add). */
  get usesAlpha(): boolean {
    return this.operator === 'add' || this.operator === 'ablate-add';
  }

  /** Switches persona (it must fit the model); alpha, steering and the conversation stay. */
  setPersona(persona: PersonaVector): void {
    persona.assertFits(this.model);
    normalizeLayer(persona.meta.recommendedLayer, this.model.numLayers);
    this.persona = persona;
  }

  /** Forgets the conversation; the settings stay. */
  reset(): void {
    this.history = [];
    this.last = null;
    this.contextTokens = 0;
  }

  /** Whether the next answer is steered (a persona, steering on and alpha ≠ 0). */
  get steers(): boolean {
    return this.steering && this.persona !== null && (!this.usesAlpha || this.alpha !== 0);
  }

  /** The steering for the next answer; null when it is not steered (so it is exactly the unsteered model). */
  intervention(): Intervention | null {
    if (!this.steers) return null;
    return resolveSteering(this.model, [
      { persona: this.persona!, alpha: this.usesAlpha ? this.alpha : undefined, layers: this.layers ?? undefined, operator: this.operator, cap: this.cap },
    ]);
  }

  /** The whole conversation as chat messages: system prompt, history and (when given) the next user message. */
  messages(next?: string): ChatMessage[] {
    return [
      ...(this.system ? [{ role: 'system' as const, content: this.system }] : []),
      ...this.history,
      ...(next === undefined ? [] : [{ role: 'user' as const, content: next }]),
    ];
  }

  /** Drops the oldest exchange (user message and its answer); false when there is none. */
  dropOldestTurn(): boolean {
    if (this.history.length === 0) return false;
    const next = this.history.findIndex((m, i) => i > 0 && m.role === 'user');
    this.history = next < 0 ? [] : this.history.slice(next);
    return true;
  }

  /** Adds one exchange to the history and records how it went; an answer stopped before any text leaves the history as it was. */
  recordAnswer(user: string, answer: string, last: LastAnswer, contextTokens: number): void {
    this.last = last;
    if (last.stopped && answer === '') return;
    this.history.push({ role: 'user', content: user }, { role: 'assistant', content: answer });
    this.contextTokens = contextTokens;
  }

  /** The settings an answer written now would carry (for `LastAnswer`). */
  snapshot(): Pick<LastAnswer, 'persona' | 'alpha' | 'layer' | 'steered'> {
    return { persona: this.persona?.name ?? null, alpha: this.alpha, layer: this.layer, steered: this.steers };
  }
}
