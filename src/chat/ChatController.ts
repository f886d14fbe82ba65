import type { Prompt } from '../engine/LanguageModel.js';
import type { SamplingOptions } from '../engine/generate/sampling.js';
import type { GenerationHandle } from '../engine/worker/EngineWorker.js';
import type { WorkerRow } from '../engine/worker/protocol.js';
import { InvalidArgumentError, PersonaError } from '../errors.js';
import type { PersonaVector } from '../steering/PersonaVector.js';
import { recordsDoesNotSteer } from '../steering/steeringWarning.js';
import type { ChatSession } from './ChatSession.js';
import { CHAT_HELP, type ChatInput } from './parseChatInput.js';
import { ReasoningSplitter } from '../model/tokenizer/splitReasoning.js';
import { personaProjection } from './personaProjection.js';
import { findPersonaFiles, resolvePersonaRef } from './resolvePersonaRef.js';
import { formatAlpha } from './terminalText.js';
import { DEFAULTS } from '../engine/defaults.js';

/**
 * What the chat needs from an engine; an `EngineWorker` is one (tests pass a fake).
 *
 * @example const engine: ChatEngine = await EngineWorker.start({ model: DEFAULT_MODEL_DIR });
 */
export interface ChatEngine {
  readonly info: { id: string; numLayers: number; hiddenSize: number; stopTokenIds: number[]; config: { maxPositionEmbeddings: number; modelType?: string } };
  generate(rows: WorkerRow[], opts?: { signal?: AbortSignal; onToken?: (row: number, text: string, token: number) => void }): Pick<GenerationHandle, 'result'>;
  activations(seqs: { promptIds: number[]; answerIds: number[] }[]): Promise<{ responseMean: Float32Array[][] }>;
  encode(prompt: Prompt): Promise<number[]>;
}

/**
 * Where `/persona` looks, and how answers are generated.
 *
 * @example const opts: ChatControllerOptions = { personaDirs: [DEFAULT_PERSONAS_DIR], maxNewTokens: 64, sampling: { temperature: 0.8, seed: 1 } };
 */
export interface ChatControllerOptions {
  /** Folders `/persona NAME` looks in, first match wins. */
  personaDirs: string[];
  /** Most tokens per answer (default 128; less when the context is nearly full). */
  maxNewTokens?: number;
  /** Sampling; answer n uses seed + n, so a session replays exactly (temperature 0 is greedy). */
  sampling?: SamplingOptions;
  /**
   * Let a thinking model think (Qwen3's `enable_thinking`; default off). The thinking streams to
   * `onReasoning`, apart from the answer, and is neither kept in the history nor measured.
   */
  thinking?: boolean;
}

/**
 * One answer, as it ended.
 *
 * @example
 * const a: ChatAnswer = await chat.ask('Hi');
 * if (a.stopped) console.log(`stopped after ${a.tokens} tokens`);
 */
export interface ChatAnswer {
  /** The answer as kept in the history (what was shown, when stopped), without the thinking. */
  text: string;
  /** The model's thinking, with `thinking: true` (null when it did not think). */
  reasoning: string | null;
  stopped: boolean;
  /** Tokens generated, the end-of-turn token included. */
  tokens: number;
  /** True when the answer closed its turn (end-of-turn token) rather than running out of tokens. */
  ended: boolean;
  /** See `personaProjection`; null without a persona or tokens. */
  projection: number | null;
  /** Oldest exchanges dropped from the history so this one fit the context. */
  droppedTurns: number;
}

/**
 * The result of a command: text to show, and whether to leave.
 *
 * @example
 * const r: ChatReply = await chat.command(parseChatInput('/alpha x'));   // { kind: 'error', text: 'alpha must be a number; got "x".' }
 */
export interface ChatReply {
  text: string;
  kind: 'info' | 'error';
  quit?: boolean;
}

/**
 * The chat's logic between the screen and the engine: answers a message from the whole
 * conversation under the current steering (streaming pieces, stoppable), keeps the history within
 * the model's context, measures how the answer projects on the persona, and carries out commands.
 *
 * @example
 * const chat = new ChatController(engine, new ChatSession(engine.info, { persona: formal }), { personaDirs: [DEFAULT_PERSONAS_DIR] });
 * await chat.command({ type: 'alpha', value: -6 });
 * const answer = await chat.ask('Thank Sam for the flowers.', { onPiece: (t) => process.stdout.write(t) });
 * answer.projection;   // e.g. -0.78: reads casual
 */
export class ChatController {
  private answers = 0;
  readonly maxNewTokens: number;
  readonly sampling: SamplingOptions;

  constructor(
    readonly engine: ChatEngine,
    readonly session: ChatSession,
    private readonly opts: ChatControllerOptions,
  ) {
    this.maxNewTokens = opts.maxNewTokens ?? DEFAULTS.chat.maxNewTokens;
    this.sampling = opts.sampling ?? {};
    if (!Number.isInteger(this.maxNewTokens) || this.maxNewTokens < 1)
      throw new InvalidArgumentError(`--max-new-tokens must be an integer ≥ 1; got ${this.maxNewTokens}.`);
  }

  /** The model's context length in tokens. */
  get contextSize(): number {
    return this.engine.info.config.maxPositionEmbeddings;
  }

  /**
   * Answers `text` given the conversation so far, streaming pieces to `onPiece`. Aborting `signal`
   * stops the answer; what was written so far is kept in the history. Oldest exchanges are dropped
   * when the conversation would leave less room in the context than `maxNewTokens` (at most half
   * the context is kept free, so a large `maxNewTokens` does not wipe the history).
   */
  async ask(text: string, io: { onPiece?: (piece: string) => void; onReasoning?: (piece: string) => void; signal?: AbortSignal } = {}): Promise<ChatAnswer> {
    const { session, engine } = this;
    const ctx = this.contextSize;
    let promptIds = await engine.encode(session.messages(text));
    let droppedTurns = 0;
    const reserve = Math.min(this.maxNewTokens, Math.floor(ctx / 2));
    while (promptIds.length + reserve > ctx && session.dropOldestTurn()) {
      droppedTurns++;
      promptIds = await engine.encode(session.messages(text));
    }
    const room = ctx - promptIds.length;
    if (room < 8)
      throw new InvalidArgumentError(
        `This message takes ${promptIds.length} tokens of the model's ${ctx}-token context (with the system prompt), leaving no room for an answer. Send a shorter one.`,
      );
    const maxNewTokens = Math.min(this.maxNewTokens, room);
    const settings = session.snapshot();
    const prompt = session.messages(text);
    const sampling = { ...this.sampling, seed: (this.sampling.seed ?? 0) + this.answers++ };
    let shown = '';
    let reasoning = '';
    const thinking = this.opts.thinking === true;
    const splitter = thinking ? new ReasoningSplitter() : null;
    const emit = (p: { content: string; reasoning: string }) => {
      shown += p.content;
      reasoning += p.reasoning;
      if (p.reasoning) io.onReasoning?.(p.reasoning);
      if (p.content) io.onPiece?.(p.content);
    };
    const [r] = await engine.generate([{ prompt, maxNewTokens, sampling, intervention: session.intervention(), ...(thinking ? { thinking } : {}) }], {
      signal: io.signal,
      onToken: (_row, piece) => {
        if (!piece) return;
        emit(splitter ? splitter.push(piece) : { content: piece, reasoning: '' });
      },
    }).result;
    if (splitter) emit(splitter.flush());
    const stopped = r.finishReason === 'cancelled';
    const answer = (stopped || splitter ? shown : r.text).trim();
    // A stopped row generated one token past the last one shown.
    const tokens = stopped ? r.tokens.slice(0, -1) : r.tokens;
    // The thinking is read as context, not as the answer: only the tokens after it are measured.
    const start = splitter?.sawReasoning ? contentStart(r.tokenTexts ?? [], tokens.length) : 0;
    const projection = await this.measure([...promptIds, ...tokens.slice(0, start)], tokens.slice(start));
    session.recordAnswer(text, answer, { ...settings, tokens: r.tokens.length, stopped, projection }, promptIds.length + r.tokens.length);
    return { text: answer, reasoning: splitter?.sawReasoning ? reasoning : null, stopped, tokens: r.tokens.length, ended: r.ended, projection, droppedTurns };
  }

  /** The answer's projection on the current persona at the current layer (unsteered read of the text). */
  private async measure(promptIds: number[], tokens: number[]): Promise<number | null> {
    const { persona, layer } = this.session;
    const stops = this.engine.info.stopTokenIds;
    const answerIds = tokens.length && stops.includes(tokens[tokens.length - 1]) ? tokens.slice(0, -1) : tokens;
    if (!persona || layer === null || answerIds.length === 0) return null;
    const { responseMean } = await this.engine.activations([{ promptIds, answerIds }]);
    return personaProjection(responseMean[0][layer], persona, layer);
  }

  /** Carries out a command typed as `/…` (a `message` input is answered with `ask` instead). */
  async command(input: ChatInput): Promise<ChatReply> {
    const s = this.session;
    const info = (text: string): ChatReply => ({ text, kind: 'info' });
    try {
      switch (input.type) {
        case 'message':
          throw new PersonaError('Messages are answered with ask(), not command().');
        case 'empty':
          return info('');
        case 'invalid':
          return { text: input.message, kind: 'error' };
        case 'alpha':
          s.setAlpha(input.value);
          return info(
            `alpha ${formatAlpha(s.alpha)}${s.persona ? '' : ' (no persona to steer with: /persona NAME)'}${s.steering ? '' : ' (steering is off: /steer on)'}`,
          );
        case 'steer':
          s.setSteering(input.on);
          return info(`steering ${s.steering ? 'on' : 'off'}${s.steering && s.alpha === 0 ? ' (alpha is 0: ↑/↓ or /alpha to steer)' : ''}`);
        case 'layer':
          s.setLayer(input.layers);
          return info(`layer ${s.layers?.join(', ')}${s.layerIsDefault ? " (the persona's recommended layer)" : ''}`);
        case 'operator':
          s.setOperator(input.operator, input.cap);
          return info(
            `operator ${s.operator}${s.cap !== undefined ? ` ${s.cap}` : ''}${s.usesAlpha ? `, alpha ${formatAlpha(s.alpha)}` : ' (alpha not used)'}`,
          );
        case 'persona':
          return input.ref === null ? info(await this.listPersonas()) : info(this.switchPersona(await resolvePersonaRef(input.ref, this.opts.personaDirs)));
        case 'history':
          return info(
            s.history.length === 0
              ? '(no conversation yet)'
              : [...(s.system ? [`system: ${s.system}`] : []), ...s.history.map((m) => `${m.role === 'user' ? 'you' : 'model'}: ${m.content}`)].join('\n'),
          );
        case 'reset':
          s.reset();
          return info('conversation cleared (settings kept)');
        case 'help':
          return info(`${CHAT_HELP}\n${PROJ_HELP}`);
        case 'quit':
          return { text: '', kind: 'info', quit: true };
      }
    } catch (err) {
      if (err instanceof PersonaError) return { text: err.message, kind: 'error' };
      throw err;
    }
  }

  private switchPersona(p: PersonaVector): string {
    this.session.setPersona(p);
    return `persona ${describePersona(p)} · now layer ${this.session.layer}, alpha ${formatAlpha(this.session.alpha)}, step ${this.session.alphaStep}`;
  }

  private async listPersonas(): Promise<string> {
    const entries = await findPersonaFiles(this.opts.personaDirs);
    if (entries.length === 0) return 'No persona files found; give a path: /persona my.persona.json';
    const lines: string[] = [];
    for (const e of entries) {
      const current = this.session.persona?.name === e.name ? '*' : ' ';
      try {
        const p = await resolvePersonaRef(e.file, []);
        let fits = '';
        try {
          p.assertFits(this.session.model);
        } catch {
          fits = ` (made for ${p.meta.model.id}, not this model)`;
        }
        lines.push(`${current} ${describePersona(p)}${fits}`);
      } catch (err) {
        lines.push(`${current} ${e.name}: unreadable (${(err as Error).message})`);
      }
    }
    return `${lines.join('\n')}\n/persona NAME switches; a file path works too.`;
  }

  /** A few lines about the model and persona, for the top of the screen; `keys` false leaves out the keyboard help (piped input). */
  welcome(opts: { keys?: boolean } = {}): string {
    const { session: s } = this;
    const i = this.engine.info;
    const lines = [
      `persona chat · model ${i.id} (${i.config.modelType ? `${i.config.modelType}, ` : ''}${i.numLayers} layers, hidden ${i.hiddenSize}, context ${this.contextSize})`,
    ];
    lines.push(s.persona ? `persona ${describePersona(s.persona)}` : 'no persona loaded: /persona NAME or a file path to steer');
    if (s.system) lines.push(`system prompt: ${s.system}`);
    const t = this.sampling.temperature ?? 0;
    lines.push(
      `alpha ${formatAlpha(s.alpha)}${s.alpha === 0 ? ' (the unsteered model)' : ''} · ${t === 0 ? 'greedy' : `temperature ${t}`} · up to ${this.maxNewTokens} tokens an answer`,
    );
    lines.push(
      opts.keys === false
        ? 'one message or /command per line · /help'
        : `↑/↓ alpha ±${s.alphaStep} · Ctrl-T steering on/off · Ctrl-C stops an answer · Ctrl-D quits · /help`,
    );
    return lines.join('\n');
  }
}

/** Index of the first answer token after `</think>` and the newlines that follow it (all tokens when it never closed). */
function contentStart(tokenTexts: string[], n: number): number {
  const close = tokenTexts.indexOf('</think>');
  if (close < 0 || close >= n) return n;
  let at = close + 1;
  while (at < n && /^\n+$/.test(tokenTexts[at])) at++;
  return at;
}

const PROJ_HELP =
  "status line: proj = how strongly the last answer projected on the persona vector (mean residual over the answer's tokens at the steered layer, on the unit vector, in units of the persona's gap; the persona's two styles differ by about 1).";

function describePersona(p: PersonaVector): string {
  const notice = recordsDoesNotSteer(p)
    ? " · does not measurably steer this model (its file records the steering check's verdict; its layer is only the most separable one)"
    : '';
  return `${p.name}${p.meta.description ? `: ${p.meta.description}` : ''} · layer ${p.meta.recommendedLayer} · alpha range ${p.meta.alphaRange[0]}..${p.meta.alphaRange[1]}${notice}`;
}
