import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTokenizer, Tokenizer } from '../../../src/model/tokenizer/Tokenizer.js';
import { NoChatTemplateError, renderPlainPrompt } from '../../../src/model/tokenizer/chatTemplate.js';
import { ModelFileError } from '../../../src/errors.js';
import { STYLIST } from '../../helpers/paths.js';

const readJson = async (file: string) => JSON.parse(await fs.readFile(file, 'utf8'));

/** A scratch model folder holding the given files (objects are written as JSON). */
async function modelFolder(files: Record<string, string | object>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'persona-tokenizer-'));
  for (const [name, content] of Object.entries(files)) {
    await fs.writeFile(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

describe('Tokenizer on the stylist model', async () => {
  const tok = await loadTokenizer(STYLIST);

  it.each([
    ['plain ASCII', 'Hello world'],
    ['punctuation', 'Well... "quoted", (parens) [brackets] {braces}; a-b_c/d\\e? #1 @2 $3 %4 ^5 &6 *7!'],
    ['leading and repeated spaces, tabs and CRLF', '  two spaces\tthen a tab\r\nand CRLF   '],
    ['emoji', 'Party time 🎉🥳 and a family 👨‍👩‍👧 and a flag 🇯🇵'],
    ['accented text', 'Café crème, naïve façade, Ærøskøbing, Łódź, São Paulo'],
    ['CJK text', '你好，世界。こんにちは、世界。안녕하세요'],
    ['newlines only', '\n\n\n'],
    ['the special tokens', '<|im_start|>user\nHi<|im_end|>\n<|endoftext|>'],
  ])('round-trips %s through encode and decode', (_name, text) => {
    expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('gives the special tokens the ids its README lists', () => {
    expect(tok.tokenToId('<|endoftext|>')).toBe(0);
    expect(tok.tokenToId('<|im_start|>')).toBe(1);
    expect(tok.tokenToId('<|im_end|>')).toBe(2);
    expect(tok.idToToken(2)).toBe('<|im_end|>');
    expect(tok.encode('<|im_start|>assistant\n<|im_end|>')).toEqual([1, ...tok.encode('assistant\n'), 2]);
    expect(tok.vocabSize).toBe(1890);
  });

  it('reads pad, EOS, BOS and end-of-turn ids from the model files', () => {
    expect(tok.padTokenId).toBe(0);
    expect(tok.eosTokenIds).toEqual([2]);
    expect(tok.bosTokenId).toBeNull();
    expect(tok.endOfTurnIds).toEqual([2]);
  });

  it('drops special tokens from decoded text when asked', () => {
    const ids = tok.encode('<|im_start|>user\nHi<|im_end|>\n');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('user\nHi\n');
  });

  it('encodes a chat without adding special tokens a second time', () => {
    const messages = [{ role: 'user', content: 'Hi' }];
    const ids = tok.encodeChat(messages);
    expect(ids).toEqual(tok.encode(tok.applyChatTemplate(messages)));
    expect(ids[0]).toBe(1);
    expect(tok.decode(ids)).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  });
});

describe('Tokenizer special ids', () => {
  it('takes the union of the EOS ids of tokenizer_config, config.json and generation_config.json', async () => {
    const tok = new Tokenizer({
      tokenizerJson: await readJson(path.join(STYLIST, 'tokenizer.json')),
      tokenizerConfig: { eos_token: { content: '<|endoftext|>', lstrip: false }, bos_token: { content: '<|im_start|>' } },
      config: { eos_token_id: [0, 2] },
      generationConfig: { eos_token_id: 1 },
    });
    expect(tok.eosTokenIds).toEqual([0, 2, 1]);
    expect(tok.bosTokenId).toBe(1);
    expect(tok.padTokenId).toBe(0);
    expect(tok.specialTokens).toEqual({ eos_token: '<|endoftext|>', bos_token: '<|im_start|>' });
  });

  it('writes a single BOS when the template writes one and the tokenizer would add one too', async () => {
    const tokenizerJson = await readJson(path.join(STYLIST, 'tokenizer.json'));
    tokenizerJson.post_processor = {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [0], tokens: ['<|endoftext|>'] } },
    };
    const tok = new Tokenizer({
      tokenizerJson,
      tokenizerConfig: { bos_token: '<|endoftext|>', eos_token: '<|im_end|>' },
      chatTemplate: { source: "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}", origin: 'test' },
    });
    expect(tok.encode('hi', { addSpecialTokens: true })[0]).toBe(0);
    const ids = tok.encodeChat([{ role: 'user', content: 'hi' }]);
    expect(ids).toEqual([0, ...tok.encode('hi')]);
  });
});

describe('loadTokenizer errors', () => {
  it('names the folder and asks for a tokenizer.json when it is missing', async () => {
    const dir = await modelFolder({ 'config.json': {} });
    const err = await loadTokenizer(dir).catch((e) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err.message).toContain(dir);
    expect(err.message).toMatch(/tokenizer\.json\) is required.*slow sentencepiece-only tokenizers .* not supported/);
  });

  it('says a sentencepiece tokenizer.model alone is not supported', async () => {
    const dir = await modelFolder({ 'tokenizer.model': 'binary' });
    await expect(loadTokenizer(dir)).rejects.toThrow(/only has tokenizer\.model, a slow sentencepiece tokenizer, which is not supported/);
  });

  it('reports a truncated tokenizer.json as invalid JSON', async () => {
    const dir = await modelFolder({ 'tokenizer.json': '{"version": "1.0", "model": {' });
    const err = await loadTokenizer(dir).catch((e) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err.message).toMatch(/tokenizer\.json is not valid JSON/);
  });

  it('reports a folder that does not exist', async () => {
    await expect(loadTokenizer(path.join(os.tmpdir(), 'persona-no-such-model'))).rejects.toThrow(ModelFileError);
  });

  it('says no chat template was found and points to a plain prompt', async () => {
    const tokenizerConfig = await readJson(path.join(STYLIST, 'tokenizer_config.json'));
    delete tokenizerConfig.chat_template;
    const dir = await modelFolder({
      'tokenizer.json': await fs.readFile(path.join(STYLIST, 'tokenizer.json'), 'utf8'),
      'tokenizer_config.json': tokenizerConfig,
    });
    const tok = await loadTokenizer(dir);
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ];
    expect(tok.hasChatTemplate).toBe(false);
    expect(() => tok.applyChatTemplate(messages)).toThrow(NoChatTemplateError);
    expect(() => tok.applyChatTemplate(messages)).toThrow(/No chat template was found in .*plain prompt/);
    expect(tok.encodeChat(messages)).toEqual(tok.encode(renderPlainPrompt(messages)));
  });
});

describe('loadTokenizer on unreadable tokenizer files', () => {
  it('reports a tokenizer.json that is JSON but not a tokenizer', async () => {
    const dir = await modelFolder({ 'tokenizer.json': { version: '1.0', model: { type: 'NoSuchModel' } } });
    const err = await loadTokenizer(dir).catch((e) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err.message).toMatch(/tokenizer\.json in .* could not be loaded/);
  });

  it('reports a tokenizer_config.json that is not a JSON object', async () => {
    const dir = await modelFolder({ 'tokenizer.json': await fs.readFile(path.join(STYLIST, 'tokenizer.json'), 'utf8'), 'tokenizer_config.json': '[1, 2]' });
    await expect(loadTokenizer(dir)).rejects.toThrow(/tokenizer_config\.json should hold a JSON object/);
  });
});
