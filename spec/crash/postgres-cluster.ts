import { execFile } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How a server is stopped: `fast` shuts down cleanly; `immediate` quits like a crash (recovery on start). */
export type StopMode = 'fast' | 'immediate';

/**
 * A PostgreSQL cluster of the test's own, in a temporary directory, on a port of its own, so that it can
 * be stopped, crashed and restarted without touching anybody else's server. Every commit is durable
 * before it is acknowledged (`fsync` and `synchronous_commit` on). As root, the PostgreSQL binaries run as
 * the `postgres` user (initdb refuses root), in a directory owned by it. Uses `initdb` and `pg_ctl` from
 * the PATH (or the Debian location).
 */
export class PostgresCluster {
  private constructor(
    readonly directory: string,
    readonly port: number,
    private readonly runAs: readonly string[],
  ) {}

  /** Initialises a cluster (trust authentication, user `postgres`) and starts it. */
  static async create(port?: number): Promise<PostgresCluster> {
    const directory = mkdtempSync(join(tmpdir(), 'et-crash-cluster-'));
    let runAs: string[] = [];
    if (process.getuid?.() === 0) {
      const uid = Number((await run('id', ['-u', 'postgres'])).stdout);
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout);
      chownSync(directory, uid, gid);
      runAs = ['runuser', '-u', 'postgres', '--'];
    }
    const cluster = new PostgresCluster(directory, port ?? (await freePort()), runAs);
    try {
      await cluster.pg('initdb', ['-D', cluster.dataDirectory, '-U', 'postgres', '-A', 'trust', '--no-sync']);
      await cluster.start();
    } catch (error) {
      rmSync(directory, { recursive: true, force: true });
      throw error;
    }
    return cluster;
  }

  /** The connection string of the `postgres` database. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts the server (after a crash, once its recovery is done) and waits until it accepts connections. */
  async start(): Promise<void> {
    const settings = [
      `-p ${this.port}`,
      `-c listen_addresses=127.0.0.1`,
      `-c unix_socket_directories=${this.directory}`,
      '-c fsync=on',
      '-c synchronous_commit=on',
      '-c full_page_writes=on',
      '-c max_connections=200',
    ].join(' ');
    await this.pg('pg_ctl', [
      'start',
      '-D',
      this.dataDirectory,
      '-l',
      join(this.directory, 'server.log'),
      '-w',
      '-t',
      '120',
      '-o',
      settings,
    ]);
  }

  /** Stops the server: `immediate` is a crash (no shutdown checkpoint; the next start recovers). */
  async stop(mode: StopMode): Promise<void> {
    await this.pg('pg_ctl', ['stop', '-D', this.dataDirectory, '-m', mode, '-w', '-t', '120']);
  }

  /** Stops the server at once (if it runs) and removes the cluster. Never throws. */
  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(this.directory, { recursive: true, force: true });
  }

  private get dataDirectory(): string {
    return join(this.directory, 'data');
  }

  private async pg(command: string, args: readonly string[]): Promise<void> {
    const [file, ...rest] = [...this.runAs, binary(command), ...args];
    try {
      await run(file!, rest, { timeout: 180_000 });
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`${command} ${args.join(' ')} failed: ${stderr || stdout || String(error)}`, {
        cause: error,
      });
    }
  }
}

/** Whether this machine has the binaries to make a cluster (`initdb`, `pg_ctl`; as root, `runuser`). */
export function canMakeCluster(): boolean {
  const needed = ['initdb', 'pg_ctl', ...(process.getuid?.() === 0 ? ['runuser'] : [])];
  return needed.every((command) => isExecutable(binary(command)));
}

/** `initdb`/`pg_ctl` from the PATH, else from Debian's PostgreSQL (which leaves them off the PATH). */
function binary(command: string): string {
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian) ? readdirSync(debian).sort((a, b) => Number(b) - Number(a)) : [];
  const candidates = [
    ...(process.env.PATH ?? '').split(':').map((directory) => join(directory, command)),
    ...versions.map((version) => join(debian, version, 'bin', command)),
  ];
  return candidates.find(isExecutable) ?? command;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A port nobody listens on at the moment, on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
