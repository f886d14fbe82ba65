import { createInterface } from 'node:readline';
import type { ChatController } from './ChatController.js';
import { formatAnswerLabel, formatStatusLine } from './formatStatusLine.js';
import { parseChatInput } from './parseChatInput.js';

/**
 * The chat over plain lines, for input that is not a terminal (a pipe, a file, a script): each line
 * is a message or a `/command`, answers stream to the output and each is followed by the status
 * line. SIGINT stops the answer being written, or quits between answers. Resolves at end of input
 * or `/quit`.
 *
 * @example
 * // printf 'Hi!\n/alpha -6\nHi again!\n' | persona chat
 * await runChatLines(chat, { input: process.stdin, output: process.stdout });
 */
export async function runChatLines(chat: ChatController, io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream }): Promise<void> {
  const out = io.output;
  const rl = createInterface({ input: io.input, terminal: false });
  let abort: AbortController | null = null;
  const onSigint = () => (abort ? abort.abort() : rl.close());
  process.on('SIGINT', onSigint);
  out.write(chat.welcome({ keys: false }) + '\n\n');
  try {
    for await (const line of rl) {
      const input = parseChatInput(line);
      if (input.type === 'empty') continue;
      if (input.type !== 'message') {
        const reply = await chat.command(input);
        if (reply.text) out.write(`${reply.kind === 'error' ? 'error: ' : ''}${reply.text}\n`);
        if (reply.quit) break;
        continue;
      }
      out.write(`you › ${input.text}\n${formatAnswerLabel(chat.session)}`);
      abort = new AbortController();
      try {
        let thinking = false;
        const a = await chat.ask(input.text, {
          onReasoning: (p) => (out.write(thinking ? p : `(thinking) ${p}`), (thinking = true)),
          onPiece: (p) => (out.write(thinking ? `\n${p}` : p), (thinking = false)),
          signal: abort.signal,
        });
        out.write(`${a.stopped ? ' [stopped]' : ''}\n${formatStatusLine(chat.session, { contextSize: chat.contextSize })}\n\n`);
      } catch (err) {
        out.write(`\nerror: ${(err as Error).message}\n`);
      } finally {
        abort = null;
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    rl.close();
  }
}
