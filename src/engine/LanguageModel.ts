import { promises as fs } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import type { ModelConfig } from '../model/config/ModelConfig.js';
import { resolveModelSource } from '../model/resolveModel.js';
import { StreamingDecoder } from '../model/tokenizer/StreamingDecoder.js';
import { splitAnswerTokens } from '../model/tokenizer/splitReasoning.js';
import { loadTokenizer, type Tokenizer } from '../model/tokenizer/Tokenizer.js';
import type { ProgressCallback } from '../util/progress.js';
import type { DecoderSession } from './DecoderSession.js';
import { DEFAULTS } from './defaults.js';
import { CLAMP_GRAPH, SCORING_GRAPH } from './graph/GraphOptions.js';
import { generateBatch, type FinishReason, type GenerateOptions, type GenerationRequest, type TokenEvent } from './generate/generateBatch.js';
import { hasClamps, sumInterventions, type Intervention } from './generate/Intervention.js';
import type { SamplingOptions } from './generate/sampling.js';
import { modelSpec, type ModelSpec, type Precision } from './ModelSpec.js';
import { openDecoder, type SessionFactory } from './openDecoder.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A prompt: plain user text (the chat template is applied), or a list of chat messages. */
export type Prompt = string | { system?: string; user: string } | ChatMessage[];

/** The settings of a `ModelSpec` (precision, device, threads, revision, cache root), plus download and conversion progress. */
export interface LoadModelOptions extends Omit<Partial<ModelSpec>, 'model'> {
  onProgress?: ProgressCallback;
}

/**
 * What a `LanguageModel` is made of: where it came from, its config and tokenizer, the generation
 * session, and a factory for the other graph variants (clamp, scoring), opened only when used.
 *
 * @example const { config, session, openSession } = await openDecoder(dir); new LanguageModel({ id: 'stylist', dir, config, tokenizer, session, precision: 'f32', openSession });
 */
export interface LanguageModelParts {
  /** The hub id, or the local folder's name. */
  id: string;
  /** The folder holding config.json, tokenizer.json and the weights. */
  dir: string;
  /** The revision asked for, else the snapshot's commit (hub models only). */
  revision?: string;
  config: ModelConfig;
  tokenizer: Tokenizer;
  session: DecoderSession;
  precision: Precision;
  /** Opens the clamp and scoring graphs; without it, ablate/cap and answer scoring are refused. */
  openSession?: SessionFactory;
}

export interface GenerateTextOptions {
  maxNewTokens?: number;
  sampling?: SamplingOptions;
  /** One intervention for every row, or one per row (an alpha sweep in one batch); summed with the installed hooks. */
  intervention?: Intervention | null | (Intervention | null)[];
  /** Rows per forward batch (default 16). */
  batchSize?: number;
  stopStrings?: string[];
  logprobs?: number | null;
  signal?: AbortSignal;
  onToken?: (e: TokenEvent & { text: string }) => void;
  /** Skip hooks installed with addPersonaHook (e.g. for an unsteered baseline). */
  ignoreHooks?: boolean;
  /**
   * Let a thinking model think (the chat template's `enable_thinking`, e.g. Qwen3; default off, as
   * transformers). The thinking is split off: `text` holds the answer, `reasoning` the thinking.
   */
  thinking?: boolean;
}

export interface GeneratedText {
  prompt: Prompt;
  promptIds: number[];
  text: string;
  tokens: number[];
  finishReason: FinishReason;
  ended: boolean;
  logprobs?: number[];
  topLogprobs?: { id: number; logprob: number }[][];
  /** The thinking (`<think>…</think>`) when generated with `thinking: true` and the model thought. */
  reasoning?: string | null;
  /** Index in `tokens` where the answer starts (after the thinking); 0 when there was none. */
  contentStart?: number;
}

/**
 * A loaded decoder with its tokenizer and chat template: generate text, stream it, steer it.
 *
 * @example
 * const model = await loadModel();              // the embedded stylist
 * const [out] = await model.generate(['Write a thank-you note to Sam.'], { maxNewTokens: 48 });
 */
export class LanguageModel {
  /** Steering installed with `addPersonaHook`: the same values per-call steering uses, summed into every row. */
  readonly hooks = new Set<Intervention>();
  readonly id: string;
  readonly dir: string;
  readonly revision?: string;
  readonly config: ModelConfig;
  readonly tokenizer: Tokenizer;
  readonly session: DecoderSession;
  readonly precision: Precision;
  private readonly openSession?: SessionFactory;
  private clampSession: Promise<DecoderSession> | null = null;
  private scoring: Promise<DecoderSession> | null = null;

  constructor(parts: LanguageModelParts) {
    this.id = parts.id;
    this.dir = parts.dir;
    this.revision = parts.revision;
    this.config = parts.config;
    this.tokenizer = parts.tokenizer;
    this.session = parts.session;
    this.precision = parts.precision;
    this.openSession = parts.openSession;
  }

  /**
   * The session for a batch: the main one, or — only when a row uses ablate/cap — a second session
   * whose graph has the projection clamp (opened on first use; weights loaded a second time).
   */
  async sessionFor(rows: (Intervention | null | undefined)[]): Promise<DecoderSession> {
    if (!rows.some(hasClamps)) return this.session;
    if (!this.openSession) throw new InvalidArgumentError('ablate/cap need a model opened with loadModel.');
    this.clampSession ??= this.openSession(CLAMP_GRAPH);
    return this.clampSession;
  }

  /**
   * The session that scores answers (pooled activations and answer log-probabilities in one
   * teacher-forced pass, steering fed as zeros): the main session, whose graph scores too, so the
   * weights are held once; a session opened on another graph opens the scoring graph on first use.
   */
  scoringSession(): Promise<DecoderSession> {
    if (this.session.options.logits === 'targets' && this.session.options.pooling) return Promise.resolve(this.session);
    if (!this.openSession) throw new InvalidArgumentError('Scoring answers needs a model opened with loadModel.');
    this.scoring ??= this.openSession(SCORING_GRAPH);
    return this.scoring;
  }

  get numLayers(): number {
    return this.config.numHiddenLayers;
  }

  get hiddenSize(): number {
    return this.config.hiddenSize;
  }

  /** Tokens that end generation: EOS ids and end-of-turn tokens. */
  get stopTokenIds(): number[] {
    return [...new Set([...this.config.eosTokenIds, ...this.tokenizer.eosTokenIds, ...this.tokenizer.endOfTurnIds])];
  }

  get padTokenId(): number {
    return this.tokenizer.padTokenId ?? this.config.padTokenId ?? 0;
  }

  /** Messages of a prompt, with an optional system prompt. */
  messages(prompt: Prompt, system?: string): ChatMessage[] {
    if (Array.isArray(prompt)) return system ? [{ role: 'system', content: system }, ...prompt.filter((m) => m.role !== 'system')] : prompt;
    const p = typeof prompt === 'string' ? { user: prompt } : prompt;
    const sys = system ?? p.system;
    return [...(sys ? [{ role: 'system' as const, content: sys }] : []), { role: 'user' as const, content: p.user }];
  }

  /** Token ids of a prompt with the chat template applied and the assistant turn opened. */
  encodePrompt(prompt: Prompt, system?: string, opts: { thinking?: boolean } = {}): number[] {
    return this.tokenizer.encodeChat(this.messages(prompt, system), { addGenerationPrompt: true, enableThinking: opts.thinking === true });
  }

  /** Each row's steering: its own value plus every installed hook (unless `ignoreHooks`), summed. */
  private rowSteering(own: (Intervention | null | undefined)[], ignoreHooks?: boolean): (Intervention | null)[] {
    const LH = this.numLayers * this.hiddenSize;
    const hooks = ignoreHooks ? [] : [...this.hooks];
    return own.map((v) => sumInterventions([...hooks, v], LH));
  }

  /**
   * Generates answers for several prompts, batched (left padding; rows finish on their own).
   * Interventions: per call (`intervention`, one or per row) plus the installed hooks, summed.
   */
  async generate(prompts: Prompt[], opts: GenerateTextOptions = {}): Promise<GeneratedText[]> {
    const own = Array.isArray(opts.intervention) ? opts.intervention : prompts.map(() => (opts.intervention as Intervention | null | undefined) ?? null);
    if (own.length !== prompts.length) throw new InvalidArgumentError(`Got ${own.length} interventions for ${prompts.length} prompts.`);
    const per = this.rowSteering(own, opts.ignoreHooks);
    const ids = prompts.map((p) => this.encodePrompt(p, undefined, { thinking: opts.thinking }));
    const bs = opts.batchSize ?? DEFAULTS.generation.batchSize;
    const out: GeneratedText[] = [];
    for (let start = 0; start < prompts.length; start += bs) {
      const end = Math.min(prompts.length, start + bs);
      const reqs: GenerationRequest[] = [];
      const decoders: { stream: StreamingDecoder; text: string }[] = [];
      for (let i = start; i < end; i++) {
        reqs.push({
          promptIds: ids[i],
          maxNewTokens: opts.maxNewTokens ?? DEFAULTS.generation.maxNewTokens,
          sampling: rowSampling(opts.sampling, i),
          intervention: per[i],
        });
        decoders.push({ stream: new StreamingDecoder(this.tokenizer, { skipSpecialTokens: true }), text: '' });
      }
      const stops = opts.stopStrings ?? [];
      const rows = await generateBatch(await this.sessionFor(reqs.map((r) => r.intervention)), reqs, {
        stopTokenIds: this.stopTokenIds,
        padTokenId: this.padTokenId,
        logprobs: opts.logprobs,
        signal: opts.signal,
        onToken: (e) => {
          if (!opts.onToken && stops.length === 0) return false;
          const d = decoders[e.row];
          const piece = d.stream.push(e.token);
          d.text += piece;
          opts.onToken?.({ ...e, row: e.row + start, text: piece });
          return stops.some((s) => d.text.includes(s));
        },
      });
      rows.forEach((r, j) => {
        let text = this.tokenizer.decode(r.tokens, { skipSpecialTokens: true });
        for (const s of stops) {
          const at = text.indexOf(s);
          if (at >= 0) text = text.slice(0, at);
        }
        const thought = opts.thinking ? splitAnswerTokens(this.tokenizer, r.tokens, text) : {};
        out.push({
          prompt: prompts[start + j],
          promptIds: ids[start + j],
          text,
          tokens: r.tokens,
          finishReason: r.finishReason,
          ended: r.ended,
          logprobs: r.logprobs,
          topLogprobs: r.topLogprobs,
          ...thought,
        });
      });
    }
    return out;
  }

  /**
   * Generates a batch where every row has its own settings (the server batches unrelated requests
   * this way). `onToken` may return true to stop that row (client gone, stop string seen).
   *
   * @example await model.generateRows([{ prompt: 'Hi', maxNewTokens: 8 }, { prompt: 'Yo', sampling: { temperature: 1, seed: 3 } }]);
   */
  async generateRows(
    rows: { prompt: Prompt; maxNewTokens?: number; sampling?: SamplingOptions; intervention?: Intervention | null; thinking?: boolean }[],
    opts: {
      logprobs?: number | null;
      signal?: AbortSignal;
      ignoreHooks?: boolean;
      onToken?: (e: TokenEvent) => boolean | void;
      onResidual?: GenerateOptions['onResidual'];
    } = {},
  ): Promise<GeneratedText[]> {
    const ids = rows.map((r) => this.encodePrompt(r.prompt, undefined, { thinking: r.thinking }));
    const merged = this.rowSteering(
      rows.map((r) => r.intervention),
      opts.ignoreHooks,
    );
    const out = await generateBatch(
      await this.sessionFor(merged),
      rows.map((r, i) => ({
        promptIds: ids[i],
        maxNewTokens: r.maxNewTokens ?? DEFAULTS.generation.maxNewTokens,
        sampling: r.sampling,
        intervention: merged[i],
      })),
      {
        stopTokenIds: this.stopTokenIds,
        padTokenId: this.padTokenId,
        logprobs: opts.logprobs,
        signal: opts.signal,
        onToken: opts.onToken,
        onResidual: opts.onResidual,
      },
    );
    return out.map((r, i) => ({
      prompt: rows[i].prompt,
      promptIds: ids[i],
      text: this.tokenizer.decode(r.tokens, { skipSpecialTokens: true }),
      tokens: r.tokens,
      finishReason: r.finishReason,
      ended: r.ended,
      logprobs: r.logprobs,
      topLogprobs: r.topLogprobs,
    }));
  }

  /**
   * Streams one answer as text pieces.
   *
   * @example for await (const piece of model.stream('Say hi to Ana.')) process.stdout.write(piece);
   */
  async *stream(prompt: Prompt, opts: GenerateTextOptions = {}): AsyncGenerator<string, GeneratedText> {
    const queue: string[] = [];
    let wake: (() => void) | null = null;
    let finished = false;
    let error: unknown;
    let result: GeneratedText | undefined;
    const p = this.generate([prompt], {
      ...opts,
      intervention: Array.isArray(opts.intervention) ? opts.intervention[0] : opts.intervention,
      onToken: (e) => {
        opts.onToken?.(e);
        if (e.text) queue.push(e.text);
        wake?.();
      },
    })
      .then((r) => (result = r[0]))
      .catch((e) => (error = e))
      .finally(() => {
        finished = true;
        wake?.();
      });
    while (true) {
      if (queue.length) {
        yield queue.shift()!;
        continue;
      }
      if (finished) break;
      await new Promise<void>((r) => (wake = r));
      wake = null;
    }
    await p;
    if (error) throw error;
    return result!;
  }

  async dispose(): Promise<void> {
    await this.session.release();
    if (this.clampSession) await (await this.clampSession).release();
    if (this.scoring) await (await this.scoring).release();
  }
}

/** Each prompt gets its own random stream: seed + its index in the call (so rows are independent samples). */
function rowSampling(s: SamplingOptions | undefined, index: number): SamplingOptions | undefined {
  if (!s) return s;
  return { ...s, seed: (s.seed ?? 0) + index };
}

/**
 * Loads a model: a local folder, or a Hugging Face id (`Qwen/Qwen3-0.6B`, optionally `@revision`)
 * from the standard HF cache, downloaded when missing. Without an argument: the embedded stylist.
 * Takes the id and its settings, or one `ModelSpec` (as the CLI builds it).
 *
 * @example const model = await loadModel('Qwen/Qwen3-0.6B', { precision: 'q4' });
 * @example const same = await loadModel({ model: 'Qwen/Qwen3-0.6B', precision: 'q4' });
 */
export async function loadModel(spec?: string | ModelSpec, opts: LoadModelOptions = {}): Promise<LanguageModel> {
  const s = modelSpec(spec, opts);
  const source = await resolveModelSource(s.model, { revision: s.revision, onProgress: opts.onProgress });
  await fs.access(source.dir);
  const tokenizer = await loadTokenizer(source.dir);
  const precision = s.precision ?? DEFAULTS.model.precision;
  const { config, session, openSession } = await openDecoder(source.dir, {
    precision,
    device: s.device,
    threads: s.threads,
    onProgress: opts.onProgress,
    cacheRoot: s.cacheRoot,
    kvCache: s.kvCache,
  });
  return new LanguageModel({ id: source.id, dir: source.dir, revision: source.revision ?? source.commit, config, tokenizer, session, precision, openSession });
}
