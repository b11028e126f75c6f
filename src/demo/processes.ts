import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** bin/provision.js of this checkout: every child runs the same CLI. */
export const CLI_PATH = fileURLToPath(new URL('../../bin/provision.js', import.meta.url));

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export interface Child {
  name: string;
  process: ChildProcess;
  /** Where its stdout and stderr go. */
  logFile: string;
  exited: Promise<number | null>;
}

/**
 * Children stay in the demo's process group (not detached), so Ctrl-C in the terminal reaches
 * all of them at once; `stopAll` also signals each by pid when the demo ends on its own.
 */
export function startChild(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logDir: string,
): Child {
  const logFile = join(logDir, `${name}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))),
  );
  return { name, process: child, logFile, exited };
}

/** Runs one CLI command to its end and hands back its exit code and output. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function startCli(name: string, args: string[], env: NodeJS.ProcessEnv, logDir: string): Child {
  return startChild(name, process.execPath, [CLI_PATH, ...args], env, logDir);
}

/** SIGTERM in reverse start order (graceful drain), SIGKILL whoever outlives the deadline. */
export async function stopAll(children: readonly Child[], deadlineMs: number): Promise<void> {
  const alive = children.filter((c) => c.process.exitCode === null && c.process.signalCode === null);
  for (const c of [...alive].reverse()) c.process.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const c of alive) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
  }, deadlineMs);
  await Promise.all(alive.map((c) => c.exited));
  clearTimeout(timer);
}

/** Polls `check` until it returns true (or throws after `timeoutMs`, naming `what`). */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  child?: Child,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (child && (child.process.exitCode !== null || child.process.signalCode !== null))
      throw new Error(`${what}: ${child.name} exited (see ${child.logFile})`);
    if (Date.now() > end)
      throw new Error(`${what}: not ready after ${timeoutMs} ms${child ? ` (see ${child.logFile})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
