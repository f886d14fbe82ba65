import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Template } from '@huggingface/jinja';
import { loadTokenizer } from '../../../src/model/tokenizer/Tokenizer.js';
import { applyChatTemplate, readChatTemplate, renderPlainPrompt, specialTokenStrings } from '../../../src/model/tokenizer/chatTemplate.js';
import { ModelFileError, PersonaError } from '../../../src/errors.js';
import { ROOT, STYLIST } from '../../helpers/paths.js';

const QWEN3_TEMPLATE = path.join(ROOT, 'test', 'fixtures', 'qwen3-chat-template.jinja');

const conversation = [
  { role: 'system', content: 'You are a formal and professional assistant.' },
  { role: 'user', content: 'Write a thank-you note to Reese.' },
  { role: 'assistant', content: 'Dear Reese, thank you.' },
  { role: 'user', content: 'Shorter, please.' },
];

async function stylistWith(files: Record<string, string | object>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'persona-template-'));
  await fs.copyFile(path.join(STYLIST, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const tokenizerConfig = JSON.parse(await fs.readFile(path.join(STYLIST, 'tokenizer_config.json'), 'utf8'));
  delete tokenizerConfig.chat_template;
  await fs.writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  for (const [name, content] of Object.entries(files)) {
    await fs.writeFile(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

describe('the stylist chat template', async () => {
  const tok = await loadTokenizer(STYLIST);
  const tokenizerConfig = JSON.parse(await fs.readFile(path.join(STYLIST, 'tokenizer_config.json'), 'utf8'));

  it('renders exactly what @huggingface/jinja renders from tokenizer_config.json', () => {
    const direct = new Template(tokenizerConfig.chat_template).render({
      messages: conversation,
      add_generation_prompt: true,
      eos_token: tokenizerConfig.eos_token,
      pad_token: tokenizerConfig.pad_token,
    });
    expect(tok.applyChatTemplate(conversation)).toBe(direct);
  });

  it('renders the ChatML string written by hand, with and without the generation prompt', () => {
    const turns =
      '<|im_start|>system\nYou are a formal and professional assistant.<|im_end|>\n' +
      '<|im_start|>user\nWrite a thank-you note to Reese.<|im_end|>\n' +
      '<|im_start|>assistant\nDear Reese, thank you.<|im_end|>\n' +
      '<|im_start|>user\nShorter, please.<|im_end|>\n';
    expect(tok.applyChatTemplate(conversation)).toBe(turns + '<|im_start|>assistant\n');
    expect(tok.applyChatTemplate(conversation, { addGenerationPrompt: false })).toBe(turns);
  });

  it('passes the special token strings of tokenizer_config, plain or as {content} objects', () => {
    expect(specialTokenStrings(tokenizerConfig)).toEqual({ eos_token: '<|im_end|>', pad_token: '<|endoftext|>' });
    expect(specialTokenStrings({ bos_token: { content: '<s>', lstrip: false }, additional_special_tokens: ['<a>', { content: '<b>' }] })).toEqual({
      bos_token: '<s>',
      additional_special_tokens: ['<a>', '<b>'],
    });
    const source = '{{ bos_token }}|{{ eos_token }}|{{ additional_special_tokens[1] }}';
    expect(applyChatTemplate(source, [], { specialTokens: { bos_token: '<s>', eos_token: '</s>', additional_special_tokens: ['<a>', '<b>'] } })).toBe(
      '<s>|</s>|<b>',
    );
  });
});

describe("Qwen3's chat template", async () => {
  const source = await fs.readFile(QWEN3_TEMPLATE, 'utf8');
  const tok = await loadTokenizer(await stylistWith({ 'chat_template.jinja': source }));
  const ask = [{ role: 'user', content: 'Hi' }];

  it('keeps thinking off by default: an empty think block follows the generation prompt', () => {
    expect(tok.applyChatTemplate(ask)).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n');
  });

  it('leaves the assistant turn open for thinking when asked', () => {
    expect(tok.applyChatTemplate(ask, { enableThinking: true })).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  });

  it('drops the thinking of earlier turns and keeps that of the last one, as transformers does', () => {
    const earlier = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: '<think>\nhmm\n</think>\n\nHello' },
      { role: 'user', content: 'Again' },
    ];
    expect(tok.applyChatTemplate(earlier, { enableThinking: true })).toBe(
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\nAgain<|im_end|>\n<|im_start|>assistant\n',
    );
    const last = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello', reasoning_content: 'r' },
    ];
    expect(tok.applyChatTemplate(last, { addGenerationPrompt: false })).toBe(
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nr\n</think>\n\nHello<|im_end|>\n',
    );
  });

  it('describes tools as JSON in the system turn', () => {
    const tools = [{ type: 'function', function: { name: 'get_time', description: 'Time now', parameters: { type: 'object', properties: {} } } }];
    const text = tok.applyChatTemplate(ask, { tools });
    expect(text).toContain(
      '<tools>\n{"type": "function", "function": {"name": "get_time", "description": "Time now", "parameters": {"type": "object", "properties": {}}}}\n</tools>',
    );
    expect(text.startsWith('<|im_start|>system\n# Tools')).toBe(true);
  });

  it('prefers chat_template.jinja over tokenizer_config.json', async () => {
    expect(tok.chatTemplate?.origin).toMatch(/chat_template\.jinja$/);
    expect(tok.chatTemplate?.source).toBe(source);
  });
});

describe('chat template sources and errors', () => {
  it('uses the template named default when tokenizer_config lists several', async () => {
    const found = await readChatTemplate(os.tmpdir(), {
      chat_template: [
        { name: 'tool_use', template: 'tools' },
        { name: 'default', template: '{{ messages[0].content }}' },
      ],
    });
    expect(found?.source).toBe('{{ messages[0].content }}');
  });

  it('reads chat_template.json when the other places have none', async () => {
    const dir = await stylistWith({ 'chat_template.json': { chat_template: '{{ messages | length }}' } });
    const tok = await loadTokenizer(dir);
    expect(tok.applyChatTemplate([{ role: 'user', content: 'a' }])).toBe('1');
  });

  it("turns the template's raise_exception into a PersonaError with its message", () => {
    const source = "{% if messages[0].role != 'user' %}{{ raise_exception('Conversation must start with a user turn') }}{% endif %}ok";
    expect(() => applyChatTemplate(source, [{ role: 'assistant', content: 'x' }])).toThrow(PersonaError);
    expect(() => applyChatTemplate(source, [{ role: 'assistant', content: 'x' }])).toThrow(
      /could not render these messages: Conversation must start with a user turn$/,
    );
    expect(applyChatTemplate(source, [{ role: 'user', content: 'x' }])).toBe('ok');
  });

  it('reports a template that does not parse as a model file error naming its origin', () => {
    expect(() => applyChatTemplate('{% for m in messages %}', [], { origin: 'x/tokenizer_config.json' })).toThrow(ModelFileError);
    expect(() => applyChatTemplate('{% for m in messages %}', [], { origin: 'x/tokenizer_config.json' })).toThrow(
      /x\/tokenizer_config\.json could not be parsed/,
    );
  });

  it('lets extra variables reach the template', () => {
    expect(applyChatTemplate('{{ date_string }}', [], { extra: { date_string: '26 Jul 2024' } })).toBe('26 Jul 2024');
  });

  it('renders a plain prompt by joining the contents', () => {
    expect(renderPlainPrompt(conversation.slice(0, 2))).toBe('You are a formal and professional assistant.\n\nWrite a thank-you note to Reese.');
  });
});
