import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

/** Whether tmux can be run here. */
export const HAS_TMUX = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A real terminal for tests: a detached tmux session on its own server socket, driven with
 * send-keys and read with capture-pane. The command's exit status is printed as `EXIT=n` and the
 * pane stays open so the test can read it.
 */
export class TmuxTerminal {
  private started = false;
  private socketPath = '';
  constructor(
    readonly socket: string,
    readonly size = { width: 120, height: 40 },
  ) {}

  private tmux(args: string[]): string {
    const env = { ...process.env };
    delete env.TMUX;
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', env });
  }

  /** Starts `argv` (run in `cwd`) in a new session. */
  start(argv: string[], cwd: string): void {
    const cmd = `cd ${quote(cwd)} && ${argv.map(quote).join(' ')}; echo EXIT=$?; sleep 120`;
    this.tmux(['new-session', '-d', '-s', 'chat', '-x', String(this.size.width), '-y', String(this.size.height), cmd]);
    this.started = true;
    this.socketPath = this.tmux(['display-message', '-p', '-t', 'chat', '#{socket_path}']).trim();
  }

  /** Keys as tmux names them: literal text, `Enter`, `Up`, `Down`, `C-c`, `C-d`, … */
  send(...keys: string[]): void {
    this.tmux(['send-keys', '-t', 'chat', ...keys]);
  }

  /** Types text literally (no key-name lookup), then optionally Enter. */
  type(text: string, enter = true): void {
    this.tmux(['send-keys', '-t', 'chat', '-l', text]);
    if (enter) this.send('Enter');
  }

  /** The screen, with the scrollback from the start. */
  screen(): string {
    return this.tmux(['capture-pane', '-p', '-t', 'chat', '-S', '-']).replace(/\s+$/, '');
  }

  /** The last line with text on it (the input line when the chat waits). */
  lastLine(): string {
    return (
      this.screen()
        .split('\n')
        .filter((l) => l.trim())
        .at(-1) ?? ''
    );
  }

  /** Polls the screen until `test` passes; throws with the screen after `timeoutMs`. */
  async waitFor(test: RegExp | ((screen: string) => boolean), timeoutMs = 30_000, everyMs = 25): Promise<string> {
    const ok = typeof test === 'function' ? test : (s: string) => test.test(s);
    const until = Date.now() + timeoutMs;
    for (;;) {
      const s = this.screen();
      if (ok(s)) return s;
      if (Date.now() > until) throw new Error(`Timed out waiting for ${test} on the screen:\n${s}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** Ends the session and its server, and removes the server's socket file. */
  kill(): void {
    if (!this.started) return;
    try {
      this.tmux(['kill-server']);
    } catch {
      // already gone
    }
    if (this.socketPath) rmSync(this.socketPath, { force: true });
  }
}
