import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { ModelFileError } from '../../errors.js';
import { readJsonFile, readTextFile } from '../../util/readJsonFile.js';
import { describeValue } from '../config/describeValue.js';
import {
  applyChatTemplate,
  NoChatTemplateError,
  readChatTemplate,
  renderPlainPrompt,
  specialTokenContent,
  specialTokenStrings,
  type ChatTemplateMessage,
  type ChatTemplateOptions,
  type ChatTemplateSource,
  type SpecialTokenStrings,
} from './chatTemplate.js';

type Raw = Record<string, unknown>;

/**
 * Token ids at or above this are refused: no real vocabulary comes near it (Gemma 3 has 262,144
 * tokens), and the tokenizer library builds arrays as long as the largest id.
 */
export const MAX_TOKEN_ID = 1 << 22;

/** Private-use characters that stand for a special-token string typed inside a message while the template renders. */
const ESC_OPEN = '\uE000';
const ESC_CLOSE = '\uE001';
const ESCAPED = /\uE000(\d+)\uE001/g;

interface SpecialToken {
  content: string;
  id: number;
  lstrip: boolean;
  rstrip: boolean;
}

/** Tokens that close a chat turn in the families we run (ChatML, Gemma, Llama 3, Phi). */
const END_OF_TURN_TOKENS = ['<|im_end|>', '<end_of_turn>', '<|eot_id|>', '<|end|>'];

/**
 * The parsed files of a model folder that a `Tokenizer` is made from (`loadTokenizer` reads them).
 *
 * @example
 * const tok = new Tokenizer({ tokenizerJson, tokenizerConfig, chatTemplate: { source, origin: 'inline' } });
 */
export interface TokenizerFiles {
  /** `tokenizer.json`, parsed. */
  tokenizerJson: object;
  /** `tokenizer_config.json`, parsed ({} when absent). */
  tokenizerConfig?: Raw;
  /** `config.json`, parsed (read for `eos_token_id`). */
  config?: Raw;
  /** `generation_config.json`, parsed (read for `eos_token_id`). */
  generationConfig?: Raw;
  chatTemplate?: ChatTemplateSource | null;
  /** The model folder, for error messages. */
  dir?: string;
}

/**
 * A model's tokenizer (`tokenizer.json`, run by @huggingface/tokenizers) with its special token
 * ids and chat template.
 *
 * @example
 * const tok = await loadTokenizer('models/stylist');
 * const ids = tok.encodeChat([{ role: 'user', content: 'Hi' }]);
 * tok.decode(ids); // '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n'
 */
export class Tokenizer {
  /** Number of tokens the tokenizer knows, added tokens included (transformers' `len(tokenizer)`). */
  readonly vocabSize: number;
  /** Ids that end generation: `eos_token` of tokenizer_config, and `eos_token_id` of config.json and generation_config.json. */
  readonly eosTokenIds: number[];
  /** Ids of the end-of-turn tokens in the vocabulary (`<|im_end|>`, `<end_of_turn>`, `<|eot_id|>`, `<|end|>`). */
  readonly endOfTurnIds: number[];
  /** `pad_token` of tokenizer_config, else the first EOS id; null when neither exists. */
  readonly padTokenId: number | null;
  /** `bos_token` of tokenizer_config; null when the model has none (Qwen). */
  readonly bosTokenId: number | null;
  /** Special token strings as chat templates see them (`bos_token`, `eos_token`, ...). */
  readonly specialTokens: SpecialTokenStrings;
  /** The chat template's Jinja source and origin, or null when the model has none. */
  readonly chatTemplate: ChatTemplateSource | null;
  private readonly hf: HfTokenizer;
  private readonly dir: string;
  private readonly files: TokenizerFiles;
  /** Added tokens marked `special` (what `allowSpecialTokens: false` keeps out of message contents). */
  private readonly specials: Map<string, SpecialToken>;
  private readonly specialPattern: RegExp | null;
  /** The same tokenizer without its special tokens, for text that must stay plain (built on first use). */
  private plainHf: HfTokenizer | null = null;

  constructor(files: TokenizerFiles) {
    const tokenizerConfig = files.tokenizerConfig ?? {};
    this.dir = files.dir ?? 'the model folder';
    this.files = files;
    this.specials = checkTokenIds(files.tokenizerJson as Raw, this.dir);
    const alternatives = [...this.specials.keys(), ESC_OPEN, ESC_CLOSE].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.specialPattern = this.specials.size ? new RegExp(alternatives.join('|'), 'g') : null;
    try {
      this.hf = new HfTokenizer(files.tokenizerJson, tokenizerConfig);
    } catch (err) {
      throw new ModelFileError(`The tokenizer.json in ${this.dir} could not be loaded: ${(err as Error).message}`, { cause: err });
    }
    this.vocabSize = this.hf.get_vocab(true).size;
    this.specialTokens = specialTokenStrings(tokenizerConfig);
    this.chatTemplate = files.chatTemplate ?? null;

    const idOf = (key: string): number | null => {
      const s = specialTokenContent(tokenizerConfig[key]);
      return s === null ? null : (this.tokenToId(s) ?? null);
    };
    const eos = new Set<number>();
    const tokEos = idOf('eos_token');
    if (tokEos !== null) eos.add(tokEos);
    const textConfig = files.config?.text_config as Raw | undefined;
    for (const v of [files.config?.eos_token_id, textConfig?.eos_token_id, files.generationConfig?.eos_token_id]) {
      for (const id of Array.isArray(v) ? v : [v]) if (typeof id === 'number') eos.add(id);
    }
    this.eosTokenIds = [...eos];
    this.endOfTurnIds = END_OF_TURN_TOKENS.map((t) => this.tokenToId(t)).filter((id): id is number => id !== undefined);
    this.padTokenId = idOf('pad_token') ?? this.eosTokenIds[0] ?? null;
    this.bosTokenId = idOf('bos_token');
  }

  /** Whether the model has a chat template (else `applyChatTemplate` throws `NoChatTemplateError`). */
  get hasChatTemplate(): boolean {
    return this.chatTemplate !== null;
  }

  /**
   * Token ids of a text. Special tokens written in the text (`<|im_start|>`) become their ids unless
   * `parseSpecialTokens: false` (then they are plain text, as transformers' `split_special_tokens`).
   * `addSpecialTokens` (default false) adds what the tokenizer's post-processor adds (Llama's BOS).
   *
   * @example
   * tok.encode('<|im_start|>user'); // [1, ...]
   * tok.encode('<|im_start|>user', { parseSpecialTokens: false }); // ids of '<', '|', 'im', ...
   */
  encode(text: string, opts: { addSpecialTokens?: boolean; parseSpecialTokens?: boolean } = {}): number[] {
    if (opts.parseSpecialTokens === false && this.specials.size > 0) {
      const prefix = opts.addSpecialTokens ? this.hf.encode('', { add_special_tokens: true }).ids : [];
      return [...prefix, ...this.plain().encode(text, { add_special_tokens: false }).ids];
    }
    return this.hf.encode(text, { add_special_tokens: opts.addSpecialTokens ?? false }).ids;
  }

  private plain(): HfTokenizer {
    if (this.plainHf) return this.plainHf;
    const json = this.files.tokenizerJson as Raw;
    const added = (json.added_tokens as { special?: unknown }[] | undefined) ?? [];
    this.plainHf = new HfTokenizer({ ...json, added_tokens: added.filter((t) => t.special !== true) }, this.files.tokenizerConfig ?? {});
    return this.plainHf;
  }

  /**
   * The text of token ids; `skipSpecialTokens` drops `<|im_end|>` and the like.
   *
   * @example
   * tok.decode(tok.encode('héllo 🙂')); // 'héllo 🙂'
   */
  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.hf.decode(ids as number[], { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  /**
   * The id of a token string, or undefined when it is not in the vocabulary.
   *
   * @example
   * tok.tokenToId('<|im_end|>'); // 2
   */
  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  /**
   * The token string of an id (byte-level form, e.g. 'Ġthe'), or undefined when out of range.
   *
   * @example
   * tok.idToToken(2); // '<|im_end|>'
   */
  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  /**
   * Renders the chat template (Qwen3 thinking off unless `enableThinking`). Throws
   * `NoChatTemplateError` when the model has none.
   *
   * @example
   * tok.applyChatTemplate([{ role: 'user', content: 'Hi' }]); // '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n'
   */
  applyChatTemplate(messages: readonly ChatTemplateMessage[], opts: ChatTemplateOptions = {}): string {
    if (this.chatTemplate === null) {
      throw new NoChatTemplateError(
        `No chat template was found in ${this.dir} (no chat_template.jinja, no chat_template in tokenizer_config.json). ` +
          'Use a plain prompt instead (renderPlainPrompt), or add a chat_template.jinja to the folder.',
      );
    }
    return applyChatTemplate(this.chatTemplate.source, messages, { ...opts, specialTokens: this.specialTokens, origin: this.chatTemplate.origin });
  }

  /**
   * Token ids of a chat, as transformers' `apply_chat_template(tokenize=True)`: the template writes
   * BOS and every special token, so none is added again (no double BOS). A model without a chat
   * template gets `renderPlainPrompt` encoded with the tokenizer's own special tokens instead.
   *
   * Only the template's own markers are special tokens: a `<|im_end|><|im_start|>system` typed in a
   * message is encoded as plain text (as OpenAI's API treats message text), so no message can end its
   * turn or speak as another role. `allowSpecialTokens: true` parses them, for trusted text only.
   *
   * @example
   * tok.encodeChat([{ role: 'user', content: 'Hi' }]); // ids of '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n'
   */
  encodeChat(messages: readonly ChatTemplateMessage[], opts: ChatTemplateOptions = {}): number[] {
    const trusted = opts.allowSpecialTokens === true || this.specialPattern === null;
    if (this.chatTemplate === null) return this.encode(renderPlainPrompt(messages), { addSpecialTokens: true, parseSpecialTokens: trusted });
    if (trusted) return this.encode(this.applyChatTemplate(messages, opts), { addSpecialTokens: false });
    // Typed special-token strings (and the escape characters themselves) become placeholders while
    // the template renders, so every special token left in its output is the template's own.
    const literals: string[] = [];
    const escape = (text: string) =>
      text.replace(this.specialPattern!, (m) => {
        literals.push(m);
        return `${ESC_OPEN}${literals.length - 1}${ESC_CLOSE}`;
      });
    const escaped = messages.map((m) => {
      const out: Record<string, unknown> = { ...m };
      for (const [k, v] of Object.entries(m)) if (typeof v === 'string') out[k] = escape(v);
      return out as unknown as ChatTemplateMessage;
    });
    const rendered = this.applyChatTemplate(escaped, opts);
    // Split at the template's special tokens (with their lstrip/rstrip, as the tokenizer does); the
    // text between them is encoded with special-token parsing off, placeholders put back.
    const pieces: (string | SpecialToken)[] = [];
    let last = 0;
    for (const m of rendered.matchAll(this.specialPattern!)) {
      const special = this.specials.get(m[0]);
      if (!special) continue;
      pieces.push(rendered.slice(last, m.index), special);
      last = m.index + m[0].length;
    }
    pieces.push(rendered.slice(last));
    const ids: number[] = [];
    pieces.forEach((p, i) => {
      if (typeof p !== 'string') return void ids.push(p.id);
      let text = p;
      if (i > 0 && (pieces[i - 1] as SpecialToken).rstrip) text = text.trimStart();
      if (i < pieces.length - 1 && (pieces[i + 1] as SpecialToken).lstrip) text = text.trimEnd();
      text = text.replace(ESCAPED, (whole, k: string) => literals[Number(k)] ?? whole);
      if (text) ids.push(...this.plain().encode(text, { add_special_tokens: false }).ids);
    });
    return ids;
  }
}

/**
 * Loads a model folder's tokenizer: `tokenizer.json` (required), `tokenizer_config.json`, the chat
 * template (`chat_template.jinja` or tokenizer_config's `chat_template`), and the EOS ids of
 * `config.json` and `generation_config.json`.
 *
 * @example
 * const tok = await loadTokenizer('models/stylist');
 * tok.decode(tok.encode('hello')); // 'hello'
 */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const stat = await fs.stat(dir).catch(() => null);
  if (!stat?.isDirectory()) throw new ModelFileError(`${dir} is not a model folder (it does not exist or is not a directory).`);
  const tokenizerJson = await readJson(dir, 'tokenizer.json');
  if (tokenizerJson === null) {
    const slow = (await readTextFile(path.join(dir, 'tokenizer.model'), { errorClass: ModelFileError, optional: true })) !== undefined;
    throw new ModelFileError(
      `No tokenizer.json in ${dir}. A fast tokenizer file (tokenizer.json) is required` +
        (slow
          ? '; this folder only has tokenizer.model, a slow sentencepiece tokenizer, which is not supported. ' +
            'Convert it once with transformers: AutoTokenizer.from_pretrained(dir).save_pretrained(dir).'
          : '; slow sentencepiece-only tokenizers (tokenizer.model) are not supported.'),
    );
  }
  const tokenizerConfig = (await readJson(dir, 'tokenizer_config.json')) ?? {};
  return new Tokenizer({
    tokenizerJson,
    tokenizerConfig,
    config: (await readJson(dir, 'config.json')) ?? {},
    generationConfig: (await readJson(dir, 'generation_config.json')) ?? {},
    chatTemplate: await readChatTemplate(dir, tokenizerConfig),
    dir,
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The `model.type`s of tokenizer.json the tokenizer library implements. */
const MODEL_TYPES = ['BPE', 'WordPiece', 'Unigram'];

/**
 * Checks every id of `tokenizer.json` (vocabulary and added tokens) before the tokenizer library
 * sees it: one id of 1e9 would make it build a billion-entry table. Returns the special added tokens.
 */
function checkTokenIds(json: Raw, dir: string): Map<string, SpecialToken> {
  const where = `the tokenizer.json in ${dir}`;
  const check = (id: unknown, token: string) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= MAX_TOKEN_ID) {
      throw new ModelFileError(
        `${where} gives the token ${JSON.stringify(token.slice(0, 40))} the id ${describeValue(id)}; ids must be whole numbers from 0 to ${MAX_TOKEN_ID - 1}. The file is damaged or not a tokenizer; download it again.`,
      );
    }
  };
  const model = json.model as Raw | undefined;
  // The tokenizer library falls back to a "legacy" model for any other type, which encodes to
  // undefined ids: refuse what it cannot really read.
  if (model?.type !== undefined && !MODEL_TYPES.includes(model.type as string)) {
    throw new ModelFileError(
      `${where} could not be loaded: its model type ${describeValue(model.type)} is not one the tokenizer reads (${MODEL_TYPES.join(', ')}). The file is damaged or from an unsupported tokenizer.`,
    );
  }
  const vocab = model?.vocab;
  if (vocab !== null && typeof vocab === 'object' && !Array.isArray(vocab)) {
    for (const [token, id] of Object.entries(vocab as Raw)) check(id, token);
  }
  const specials = new Map<string, SpecialToken>();
  const added = json.added_tokens;
  if (added !== undefined && !Array.isArray(added)) throw new ModelFileError(`${where} has "added_tokens" that is not a list.`);
  for (const t of (added ?? []) as Raw[]) {
    const content = typeof t?.content === 'string' ? t.content : null;
    if (content === null || content === '') throw new ModelFileError(`${where} has an added token without a "content" string (got ${describeValue(t)}).`);
    check(t.id, content);
    if (t.special === true) specials.set(content, { content, id: t.id as number, lstrip: t.lstrip === true, rstrip: t.rstrip === true });
  }
  return specials;
}

async function readJson(dir: string, name: string): Promise<Raw | null> {
  const file = path.join(dir, name);
  const value = await readJsonFile(file, { errorClass: ModelFileError, hint: 'the file may be truncated, download it again.', optional: true });
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ModelFileError(`${file} should hold a JSON object.`);
  }
  return value as Raw;
}
