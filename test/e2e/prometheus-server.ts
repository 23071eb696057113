// A real Prometheus for the e2e tests (prometheus.test.ts, dashboard.test.ts): where its binary is, and a
// server started on a free loopback port with a given prometheus.yml, ready when it returns, and stopped
// (SIGTERM, then SIGKILL after 5 s) by stop().
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fetchText, freePort, pollUntil } from './demo-process.js';

/** `envName` when set (and only it), else the first `name` on PATH or in /usr/bin. */
export function findBinary(name: string, envName: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env[envName];
  const candidates = configured === undefined ? [...(env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name)), `/usr/bin/${name}`] : [configured];
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface PrometheusServerOptions {
  /** The prometheus executable. */
  readonly binary: string;
  /** A directory the caller owns (and removes): prometheus.yml and the TSDB (data/) go in it. */
  readonly dir: string;
  /** The text of prometheus.yml. */
  readonly config: string;
  /** How long the wait for /-/ready may take before it counts as a hang. */
  readonly hangMs: number;
}

export interface PrometheusServer {
  /** Its HTTP address, `http://127.0.0.1:<port>`. */
  readonly api: string;
  /** All it has printed so far. */
  log(): string;
  /** Stop it, if still running, and wait for its exit. */
  stop(): Promise<void>;
}

/**
 * Start Prometheus with `config` and wait until /-/ready answers. If it exits or is not ready in time, it is
 * stopped and the error (with its output) thrown, so that nothing outlives a failed start.
 */
export async function startPrometheus({ binary, dir, config, hangMs }: PrometheusServerOptions): Promise<PrometheusServer> {
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, config);
  const listen = `127.0.0.1:${await freePort()}`;
  const api = `http://${listen}`;
  const server = spawn(binary, [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${listen}`, '--log.level=warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  server.stdout.setEncoding('utf8').on('data', (text: string) => (log += text));
  server.stderr.setEncoding('utf8').on('data', (text: string) => (log += text));

  const stop = async (): Promise<void> => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await pollUntil(
      async () => {
        if (server.exitCode !== null) throw new Error(`prometheus exited (${server.exitCode}):\n${log}`);
        return (await fetchText(`${api}/-/ready`)) === undefined ? undefined : true;
      },
      hangMs,
      () => `prometheus was not ready at ${api} in time:\n${log}`,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { api, log: () => log, stop };
}
