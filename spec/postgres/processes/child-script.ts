import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * A TypeScript script run as an OS child process (`node --import tsx <script> …`) with an IPC channel.
 * Every wait on it is bounded and fails naming the script and its stderr; {@link kill} is for `after`
 * hooks, so that no child outlives a failed test.
 */
export class ChildScript<Message extends { readonly type: string }> {
  readonly process: ChildProcess;
  private readonly messages: Message[] = [];
  private readonly waiting = new Set<() => void>();
  private stderr = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  constructor(
    private readonly name: string,
    script: string,
    args: readonly string[],
  ) {
    this.process = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.process.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.process.on('message', (message) => {
      this.messages.push(message as Message);
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      this.process.on('exit', (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve();
      });
    });
  }

  /** Sends a message to the script (ignored once it has gone). */
  send(message: unknown): void {
    if (this.process.connected) this.process.send(message as object);
  }

  /** The first message of `type` (already received or still to come), within `ms`. */
  async message<T extends Message['type']>(type: T, ms: number): Promise<Extract<Message, { type: T }>> {
    const found = (): Message | undefined => this.messages.find((message) => message.type === type);
    await this.until(() => found() !== undefined || this.exit !== undefined, ms, `its "${type}" message`);
    const message = found();
    if (!message)
      throw new Error(
        `${this.name} exited (${this.describeExit()}) before its "${type}" message${this.tail()}`,
      );
    return message as Extract<Message, { type: T }>;
  }

  /** Resolves with the exit code once the script exited, within `ms`. */
  async exitCode(ms: number): Promise<number | null> {
    await this.until(() => this.exit !== undefined, ms, 'its exit');
    return this.exit!.code;
  }

  /** Kills the script if it still runs, and waits (bounded) for it to be gone. Never throws. */
  async kill(): Promise<void> {
    if (this.exit === undefined) this.process.kill('SIGKILL');
    await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  }

  /** What the script wrote to stderr, for failure messages. */
  get errors(): string {
    return this.stderr;
  }

  private until(done: () => boolean, ms: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiting.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting.delete(check);
        reject(new Error(`${this.name} did not give ${what} within ${ms} ms${this.tail()}`));
      }, ms);
      this.waiting.add(check);
    });
  }

  private notify(): void {
    for (const check of [...this.waiting]) check();
  }

  private describeExit(): string {
    return this.exit ? `code ${this.exit.code}, signal ${this.exit.signal}` : 'still running';
  }

  private tail(): string {
    const text = this.stderr.trim();
    return text ? `; its stderr ends:\n${text.slice(-2000)}` : '';
  }
}
