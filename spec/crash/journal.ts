import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';

/**
 * An append-only file of JSON lines, for what a process that may be killed at any moment must leave
 * behind: each line goes to the file in one `write` before `append` returns, so a SIGKILL right after it
 * cannot take it back. `durable` also flushes each line to the disk (`fdatasync`) before `append`
 * returns, for a journal that stands for a store of its own (an engine's stored position).
 */
export class Journal<Line> {
  private fd: number | undefined;

  constructor(
    readonly path: string,
    private readonly durable = false,
  ) {}

  append(line: Line): void {
    this.fd ??= openSync(this.path, 'a');
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
    if (this.durable) fdatasyncSync(this.fd);
  }

  /** Every line written so far (none when the file does not exist); a torn line fails, naming it. */
  read(): Line[] {
    return readLines<Line>(this.path);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * The lines of a journal file; a line that is not JSON (a torn write) throws, naming file and line.
 * `live`: another process may be writing the file at this moment, so a last line without its newline is
 * one still being written, and is left for the next read.
 */
export function readLines<Line>(path: string, live = false): Line[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const last = lines.pop();
  if (last !== '' && !live)
    throw new Error(`${path}: the last line is torn (no newline): ${last?.slice(0, 200)}`);
  return lines.map((line, index) => {
    try {
      return JSON.parse(line) as Line;
    } catch {
      throw new Error(`${path}:${index + 1} is not a whole JSON line: ${line.slice(0, 200)}`);
    }
  });
}
