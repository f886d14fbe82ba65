import { emitKeypressEvents } from 'node:readline';
import type { ChatController } from './ChatController.js';
import { formatAnswerLabel, formatStatusLine } from './formatStatusLine.js';
import { LineEditor } from './LineEditor.js';
import { parseChatInput } from './parseChatInput.js';
import { StreamWrapper } from './StreamWrapper.js';
import { displayWidth, makeStyle, truncateToWidth, type Style } from './terminalText.js';

/** A key as `readline.emitKeypressEvents` reports it. */
interface Key {
  name?: string;
  ctrl?: boolean;
  meta?: boolean;
  sequence?: string;
}

/**
 * The streams the terminal chat uses (default: the process's) and whether it colors.
 *
 * @example await runChatTerminal(chat, { color: false });
 */
export interface ChatTerminalOptions {
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
  /** ANSI colors (default: when the output supports them and NO_COLOR is unset). */
  color?: boolean;
}

const PROMPT = 'you › ';

/**
 * The chat in an interactive terminal (raw mode, plain ANSI): the conversation scrolls by as
 * ordinary output; below it a status line and the input line are redrawn in place. Answers stream
 * as they are written. Keys: ↑/↓ alpha, Ctrl-T steering on/off, Ctrl-C stops an answer (at the
 * prompt it clears the line; twice quits), Ctrl-D on an empty line quits, Ctrl-L redraws, and the
 * usual line editing (←/→, Home/End, Backspace/Delete, Ctrl-A/E/U/K/W). Resolves when the user quits.
 *
 * @example
 * const engine = await EngineWorker.start({ model: DEFAULT_MODEL_DIR });
 * const chat = new ChatController(engine, new ChatSession(engine.info, { persona: formal }), { personaDirs: [DEFAULT_PERSONAS_DIR] });
 * await runChatTerminal(chat);   // until Ctrl-D or /quit
 * await engine.close();
 */
export function runChatTerminal(chat: ChatController, opts: ChatTerminalOptions = {}): Promise<void> {
  return new ChatTerminal(chat, opts).run();
}

class ChatTerminal {
  private readonly input: NodeJS.ReadStream;
  private readonly out: NodeJS.WriteStream;
  private readonly st: Style;
  private readonly editor = new LineEditor();
  private mode: 'prompt' | 'busy' | 'closed' = 'prompt';
  /** Stops the answer being written. */
  private abort: AbortController | null = null;
  /** A first Ctrl-C at the prompt arms quitting; any other key disarms it. */
  private quitArmed = false;
  private hint = '';
  /** Keys pressed while busy, replayed at the next prompt. */
  private pending: [string | undefined, Key][] = [];
  /** Whether the status + input block is on screen, and the cursor's row inside it. */
  private blockShown = false;
  private blockRow = 0;
  private done!: () => void;
  private readonly onKeypress = (str: string | undefined, key: Key | undefined) => this.onKey(str, key ?? {});
  private readonly onResize = () => this.render();
  private readonly onSignal = () => this.close();

  constructor(
    private readonly chat: ChatController,
    opts: ChatTerminalOptions,
  ) {
    this.input = opts.input ?? process.stdin;
    this.out = opts.output ?? process.stdout;
    this.st = makeStyle(opts.color ?? (!process.env.NO_COLOR && (this.out.hasColors?.() ?? false)));
  }

  run(): Promise<void> {
    const finished = new Promise<void>((resolve) => (this.done = resolve));
    emitKeypressEvents(this.input);
    this.input.setRawMode?.(true);
    this.input.on('keypress', this.onKeypress);
    this.input.resume();
    this.out.on('resize', this.onResize);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    process.on('SIGHUP', this.onSignal);
    this.out.write(this.st.dim(this.chat.welcome()) + '\n\n');
    this.render();
    return finished;
  }

  /** Read through a getter so checks after an await see a quit that happened meanwhile. */
  private get closed(): boolean {
    return this.mode === 'closed';
  }

  private get columns(): number {
    return Math.max(20, this.out.columns || 80);
  }

  /** Erases the status + input block (the cursor goes to where it began). */
  private clearBlock(): void {
    if (!this.blockShown) return;
    this.out.write((this.blockRow > 0 ? `\x1b[${this.blockRow}A` : '') + '\r\x1b[J');
    this.blockShown = false;
    this.blockRow = 0;
  }

  /** Draws the status line and the input line with the cursor in place. */
  private render(): void {
    if (this.mode !== 'prompt') return;
    const cols = this.columns;
    this.clearBlock();
    const status = this.hint
      ? this.st.yellow(truncateToWidth(this.hint, cols - 1))
      : formatStatusLine(this.chat.session, { width: cols - 1, style: this.st, contextSize: this.chat.contextSize });
    const promptWidth = displayWidth(PROMPT);
    const total = promptWidth + displayWidth(this.editor.text);
    const before = promptWidth + displayWidth(this.editor.beforeCursor);
    let s = `${status}\r\n${this.st.bold(PROMPT)}${this.editor.text}`;
    // Rows below the status line where the text ends; at an exact multiple of the width, force the wrap.
    const endRow = 1 + Math.floor(total / cols);
    if (total % cols === 0) s += ' \r';
    const row = 1 + Math.floor(before / cols);
    if (endRow > row) s += `\x1b[${endRow - row}A`;
    s += `\x1b[${(before % cols) + 1}G`;
    this.out.write(s);
    this.blockShown = true;
    this.blockRow = row;
  }

  /** Writes text above the block (into the scrollback), then redraws the block. */
  private print(text: string): void {
    this.clearBlock();
    if (text) this.out.write(text.endsWith('\n') ? text : text + '\n');
    this.render();
  }

  private onKey(str: string | undefined, key: Key): void {
    if (this.mode === 'closed') return;
    const name = key.name;
    if (key.ctrl && name === 'c') return this.ctrlC();
    if (this.quitArmed) {
      this.quitArmed = false;
      this.hint = '';
    }
    if (key.ctrl && name === 'd') {
      if (this.mode === 'busy' || this.editor.isEmpty) return this.close();
      this.editor.deleteForward();
      return this.render();
    }
    if (this.mode === 'busy') {
      // Type-ahead: keys pressed while an answer is written act after it, in order.
      this.pending.push([str, key]);
      return;
    }
    const ed = this.editor;
    if (name === 'return' || name === 'enter') return void this.submit(ed.take());
    if (name === 'up' && !key.ctrl && !key.meta) this.chat.session.nudgeAlpha(+1);
    else if (name === 'down' && !key.ctrl && !key.meta) this.chat.session.nudgeAlpha(-1);
    else if (key.ctrl && name === 't') this.chat.session.setSteering('toggle');
    else if (key.ctrl && name === 'l') {
      this.blockShown = false;
      this.out.write('\x1b[2J\x1b[H');
    } else if (name === 'left' || (key.ctrl && name === 'b')) ed.left();
    else if (name === 'right' || (key.ctrl && name === 'f')) ed.right();
    else if (name === 'home' || (key.ctrl && name === 'a')) ed.home();
    else if (name === 'end' || (key.ctrl && name === 'e')) ed.end();
    else if (name === 'backspace') ed.backspace();
    else if (name === 'delete') ed.deleteForward();
    else if (key.ctrl && name === 'u') ed.killToStart();
    else if (key.ctrl && name === 'k') ed.killToEnd();
    else if (key.ctrl && name === 'w') ed.deleteWordBack();
    else if (str && !key.ctrl && !key.meta && str >= ' ' && str !== '\x7f') ed.insert(str);
    else return;
    this.render();
  }

  private ctrlC(): void {
    if (this.mode === 'busy') {
      this.abort?.abort();
      return;
    }
    if (this.quitArmed) return this.close();
    this.editor.take();
    this.quitArmed = true;
    this.hint = 'Press Ctrl-C again (or Ctrl-D) to quit.';
    this.render();
  }

  private async submit(line: string): Promise<void> {
    const input = parseChatInput(line);
    const st = this.st;
    this.clearBlock();
    this.mode = 'busy';
    try {
      if (input.type === 'message') {
        const label = formatAnswerLabel(this.chat.session, st);
        this.out.write(`${st.bold(PROMPT)}${input.text}\n${label}`);
        const wrap = new StreamWrapper(this.columns - 1, displayWidth(label));
        this.abort = new AbortController();
        // Thinking (with --thinking on) streams dimmed, before the answer, in the same wrapped block.
        let thinkingOpen = false;
        const answer = await this.chat.ask(input.text, {
          onReasoning: (piece) => {
            if (this.closed) return;
            if (!thinkingOpen) this.out.write(st.dim(wrap.push('(thinking) ')));
            thinkingOpen = true;
            this.out.write(st.dim(wrap.push(piece)));
          },
          onPiece: (piece) => {
            if (this.closed) return;
            if (thinkingOpen) this.out.write(st.dim(wrap.flush()) + wrap.push('\n'));
            thinkingOpen = false;
            this.out.write(wrap.push(piece));
          },
          signal: this.abort.signal,
        });
        if (this.closed) return;
        this.out.write(wrap.flush());
        const note = answer.stopped
          ? '⏹ stopped'
          : !answer.text
            ? '(no text: the model ended its turn at once)'
            : answer.ended
              ? ''
              : '… (reached --max-new-tokens)';
        if (note)
          this.out.write(
            (wrap.column + 1 + displayWidth(note) > this.columns - 1 ? '\n' : answer.text ? ' ' : '') + (answer.stopped ? st.yellow(note) : st.dim(note)),
          );
        this.out.write('\n');
        const n = answer.droppedTurns;
        if (n)
          this.out.write(
            st.dim(`(${n === 1 ? 'the oldest exchange was' : `the ${n} oldest exchanges were`} dropped to fit the ${this.chat.contextSize}-token context)`) +
              '\n',
          );
        this.out.write('\n');
      } else {
        if (input.type !== 'empty') this.out.write(st.dim(`${PROMPT}${line.trim()}`) + '\n');
        const reply = await this.chat.command(input);
        if (this.closed) return;
        if (reply.text) this.out.write((reply.kind === 'error' ? st.red(reply.text) : reply.text) + '\n');
        if (reply.quit) return this.close();
      }
    } catch (err) {
      if (this.closed) return;
      this.out.write('\n' + st.red(`error: ${(err as Error).message}`) + '\n');
    } finally {
      this.abort = null;
      if (this.mode === 'busy') {
        this.mode = 'prompt';
        this.render();
        while (this.pending.length && this.mode === 'prompt') this.onKey(...this.pending.shift()!);
      }
    }
  }

  /** Leaves: stops any answer, restores the terminal and resolves `run`. */
  private close(): void {
    if (this.closed) return;
    const wasBusy = this.mode === 'busy';
    this.abort?.abort();
    this.clearBlock();
    this.mode = 'closed';
    this.out.write((wasBusy ? '\n' : '') + this.st.dim('bye') + '\n');
    this.input.off('keypress', this.onKeypress);
    this.out.off('resize', this.onResize);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    process.off('SIGHUP', this.onSignal);
    this.input.setRawMode?.(false);
    this.input.pause();
    this.done();
  }
}
