import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { ModelFileError } from '../../errors.js';
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

  constructor(files: TokenizerFiles) {
    const tokenizerConfig = files.tokenizerConfig ?? {};
    this.dir = files.dir ?? 'the model folder';
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
      return s === null ? null : this.tokenToId(s) ?? null;
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
   * Token ids of a text. Special tokens written in the text (`<|im_start|>`) become their ids.
   * `addSpecialTokens` (default false) adds what the tokenizer's post-processor adds (Llama's BOS).
   *
   * @example
   * tok.encode('<|im_start|>user'); // [1, ...]
   */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    return this.hf.encode(text, { add_special_tokens: opts.addSpecialTokens ?? false }).ids;
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
   * @example
   * tok.encodeChat([{ role: 'user', content: 'Hi' }]); // ids of '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n'
   */
  encodeChat(messages: readonly ChatTemplateMessage[], opts: ChatTemplateOptions = {}): number[] {
    if (this.chatTemplate === null) return this.encode(renderPlainPrompt(messages), { addSpecialTokens: true });
    return this.encode(this.applyChatTemplate(messages, opts), { addSpecialTokens: false });
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
    const slow = (await readText(path.join(dir, 'tokenizer.model'))) !== null;
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

async function readText(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ModelFileError(`Could not read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

async function readJson(dir: string, name: string): Promise<Raw | null> {
  const file = path.join(dir, name);
  const text = await readText(file);
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ModelFileError(`${file} is not valid JSON (${(err as Error).message}); the file may be truncated, download it again.`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ModelFileError(`${file} should hold a JSON object.`);
  }
  return value as Raw;
}
