// Typical and edge uses of the child_process API. __test__/types.test.js compiles this file twice,
// with MODULE replaced by 'node:child_process' and by 'child-process-rs': both must type-check,
// and every @ts-expect-error must be an error under both.
import cp, {
  ChildProcess, ChildProcessByStdio, ChildProcessWithoutNullStreams, ExecException, ExecFileException, SpawnSyncReturns,
  exec, execFile, execFileSync, execSync, fork, spawn, spawnSync,
} from 'MODULE';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';

export async function usage(): Promise<void> {
  // spawn overloads: pipes by default, null streams with 'inherit'.
  const piped: ChildProcessWithoutNullStreams = spawn('ls', ['-l'], { cwd: new URL('file:///tmp') });
  piped.stdout.setEncoding('utf8');
  piped.stdin.end('input');
  piped.on('exit', (code: number | null, signal: NodeJS.Signals | null) => void [code, signal]);
  piped.on('error', (err: Error) => void err);
  const inherited: ChildProcessByStdio<null, null, null> = spawn('ls', { stdio: ['inherit', 'inherit', 'inherit'] });
  const mixed: ChildProcessByStdio<Writable, Readable, null> = spawn('cat', [], { stdio: ['pipe', 'pipe', 'ignore'] });
  // @ts-expect-error stdout is null with 'inherit'
  inherited.stdout.on('data', () => {});
  const plain: ChildProcess = cp.spawn('sh', ['-c', 'exit 1'], { shell: true, timeout: 10, killSignal: 'SIGKILL', signal: new AbortController().signal });
  plain.kill('SIGTERM');
  plain.kill(9);
  plain.ref();
  plain.unref();
  const pid: number | undefined = plain.pid;
  const exitCode: number | null = plain.exitCode;
  // @ts-expect-error spawn needs a command
  spawn();
  // @ts-expect-error args are strings
  spawn('ls', [1, 2]);
  void [mixed, pid, exitCode];

  // exec / execFile: callbacks, encodings, errors.
  exec('ls', (error: ExecException | null, stdout: string, stderr: string) => void [error?.code, error?.killed, error?.signal, error?.cmd, stdout, stderr]);
  exec('ls', { encoding: 'buffer' }, (_e, stdout: Buffer) => void stdout.byteLength);
  execFile('ls', ['-l'], { maxBuffer: 1024, timeout: 100 }, (error: ExecFileException | null, stdout: string) => void [error, stdout]);
  execFile('ls', { encoding: 'buffer' }, (_e, out: Buffer) => void out);
  // @ts-expect-error maxBuffer is a number
  exec('ls', { maxBuffer: 'big' });

  // The promisified forms carry `child`.
  const p = promisify(exec)('ls');
  const child: ChildProcess = p.child;
  const { stdout, stderr }: { stdout: string; stderr: string } = await p;
  const buf: { stdout: Buffer } = await promisify(execFile)('ls', [], { encoding: 'buffer' });
  void [child, stdout, stderr, buf];

  // fork and IPC.
  const worker = fork('./worker.js', ['a'], { execArgv: [], serialization: 'advanced', silent: true });
  worker.send({ hello: 'world' }, (err: Error | null) => void err);
  worker.on('message', (message) => void message);
  worker.channel?.unref();
  const connected: boolean = worker.connected;
  void connected;

  // The sync API.
  const r: SpawnSyncReturns<Buffer> = spawnSync('ls');
  const rs: SpawnSyncReturns<string> = spawnSync('ls', ['-l'], { encoding: 'utf8', input: 'x' });
  const status: number | null = rs.status;
  const out: Buffer = execSync('ls');
  const outs: string = execSync('ls', { encoding: 'utf8' });
  const outf: string = execFileSync('ls', ['-l'], { encoding: 'utf8', stdio: 'pipe' });
  // @ts-expect-error execSync returns a Buffer without an encoding
  const wrong: string = execSync('ls');
  void [r, status, out, outs, outf, wrong];

  // Explicit resource management.
  {
    using disposable = spawn('sleep', ['1']);
    void disposable;
  }
}
