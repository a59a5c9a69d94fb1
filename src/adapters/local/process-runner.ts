import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { POD_IDENTITY_ENV_NAMES } from '../../config/identity-env.js';
import type { Clock } from '../../ports/clock.js';
import type { Pod } from '../../types/kube.js';
import { containerEnv, expandReferences } from './container-env.js';
import { LineSplitter } from './line-splitter.js';
import type { ContainerExit, PodRunner, PodRunnerCallbacks, RunningPod } from './sim/pod-runner.js';

/** Options of a {@link ProcessRunner}. */
export interface ProcessRunnerOptions {
  /** Times the grace between SIGTERM and SIGKILL. */
  clock: Clock;
  /** The working directory when the container sets no `workingDir`. */
  cwd: string;
  /** The base environment of every process (before the container's own `env`). */
  baseEnv: Readonly<Record<string, string>>;
  /** How long a stopped process group has between SIGTERM and SIGKILL, in ms. */
  killGraceMs: number;
  /** How many processes run at once; the other pods wait in `ContainerCreating`. */
  maxConcurrentProcesses: number;
}

/** The warning event reason for container settings the local backend cannot honour. */
export const LOCAL_SETTING_IGNORED = 'LocalSettingIgnored';

/**
 * The variable that gives a local process the path of its termination message file. A local process
 * cannot write the container's `terminationMessagePath` (`/dev/termination-log` needs root and would be
 * shared by every process), so each one gets a file of its own in a temporary folder instead.
 */
export const TERMINATION_MESSAGE_PATH_ENV = POD_IDENTITY_ENV_NAMES.terminationMessagePath;

/** The kubelet reads at most this much of a termination message file (bytes). */
const TERMINATION_FILE_BYTES = 4096;

/**
 * Runs each pod's first container as a local child process: `command` + `args` (with `$(VAR)`
 * references expanded), in its own process group so that stopping it reaches every process it started
 * (SIGTERM, then SIGKILL after a grace). stdout and stderr lines become the pod's log; the exit code
 * becomes the container's terminated state (128 + n for a signal n; 127 when the command cannot be found).
 * When the main process ends, whatever it left running in its group is killed, as when a container stops.
 * What the process wrote to the file named by {@link TERMINATION_MESSAGE_PATH_ENV} (its first 4096
 * bytes, as the kubelet reads a termination message) becomes the terminated state's message.
 */
export class ProcessRunner implements PodRunner {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly options: ProcessRunnerOptions) {}

  start(pod: Pod, callbacks: PodRunnerCallbacks): RunningPod {
    const run = new LocalProcess(pod, callbacks, this.options, () => this.release());
    callbacks.onWaiting('ContainerCreating');
    const launch = () => {
      this.running += 1;
      void run.launch();
    };
    if (this.running < this.options.maxConcurrentProcesses) launch();
    else this.queue.push(launch);
    return {
      kill: (signal) => {
        const queued = this.queue.indexOf(launch);
        if (queued >= 0) this.queue.splice(queued, 1);
        run.kill(signal, queued >= 0);
      },
    };
  }

  private release(): void {
    this.running -= 1;
    this.queue.shift()?.();
  }
}

/** One container's process, from launch to exit. */
class LocalProcess {
  private child: ChildProcess | undefined;
  /** The folder of the process's termination message file, while it exists. */
  private terminationDir: string | undefined;
  private exited = false;
  private killSignal: NodeJS.Signals | undefined;
  private readonly graceTimer = new AbortController();

  constructor(
    private readonly pod: Pod,
    private readonly callbacks: PodRunnerCallbacks,
    private readonly options: ProcessRunnerOptions,
    private readonly release: () => void,
  ) {}

  async launch(): Promise<void> {
    const container = this.pod.spec?.containers[0];
    const { env, containerVars, skipped } = containerEnv(
      container ?? { name: 'main' },
      {
        ...this.options.baseEnv,
        HOSTNAME: this.pod.metadata.name ?? '',
      },
      this.pod,
    );
    for (const message of skipped) this.callbacks.onWarning(LOCAL_SETTING_IGNORED, message);
    const argv = [...(container?.command ?? []), ...(container?.args ?? [])].map((a) =>
      expandReferences(a, containerVars),
    );
    if (!container?.command?.length || !argv[0]) {
      this.finish({
        exitCode: 128,
        reason: 'StartError',
        message: `container "${container?.name}" has no command: the local backend runs container.command + args (there is no image entrypoint); set container.command in the block config.`,
      });
      return;
    }
    const cwd = typeof container.workingDir === 'string' ? container.workingDir : this.options.cwd;
    if (!(await isDirectory(cwd))) {
      this.finish({
        exitCode: 128,
        reason: 'StartError',
        message: `working directory "${cwd}" does not exist: set container.workingDir to an existing directory (or the project directory).`,
      });
      return;
    }
    if (this.killSignal) {
      this.finish({ exitCode: 128 + signalNumber(this.killSignal), reason: 'Error' });
      return;
    }
    this.terminationDir = await mkdtemp(join(tmpdir(), 'k8s-executor-termination-'));
    const messagePath = join(this.terminationDir, 'termination-log');
    this.spawn(argv[0], argv.slice(1), cwd, { ...env, [TERMINATION_MESSAGE_PATH_ENV]: messagePath });
  }

  kill(signal: NodeJS.Signals, beforeLaunch: boolean): void {
    if (this.exited) return;
    this.killSignal ??= signal;
    if (beforeLaunch) {
      this.exited = true;
      this.callbacks.onExit({ exitCode: 128 + signalNumber(signal), reason: 'Error' });
      return;
    }
    if (!this.child?.pid) return; // launching: `launch` sees killSignal before it spawns
    signalGroup(this.child.pid, signal);
    if (signal !== 'SIGKILL') {
      this.options.clock
        .sleep(this.options.killGraceMs, this.graceTimer.signal)
        .then(() => this.child?.pid && signalGroup(this.child.pid, 'SIGKILL'))
        .catch(() => undefined); // exited within the grace
    }
  }

  private spawn(command: string, args: string[], cwd: string, env: Record<string, string>): void {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const streams = [this.pipeLines(child.stdout), this.pipeLines(child.stderr)];
    child.once('spawn', () => {
      this.callbacks.onRunning();
      if (this.killSignal) this.kill(this.killSignal, false); // asked to stop while it was launching
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return; // an error after spawn (a failed kill): the exit still comes
      const exitCode = error.code === 'ENOENT' ? 127 : 126;
      const why = error.code === 'ENOENT' ? 'executable file not found in $PATH' : error.message;
      void this.removeTerminationDir();
      this.finish({
        exitCode,
        reason: 'StartError',
        message: `exec: "${command}": ${why} (${error.code ?? 'spawn failed'}); check container.command and the PATH.`,
      });
    });
    child.once('exit', (code, signal) => {
      // A container stops with its main process: nothing it left behind keeps running.
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
      const exitCode = code ?? 128 + signalNumber(signal ?? 'SIGKILL');
      // Wait for the pipes to drain so the log is complete, but not for a process that escaped the group.
      const drained = Promise.all(streams);
      const graceEnd = this.options.clock
        .sleep(this.options.killGraceMs, this.graceTimer.signal)
        .catch(() => undefined);
      void Promise.race([drained, graceEnd]).then(async () => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        const message = await this.readTerminationMessage();
        this.finish({ exitCode, ...(message ? { message } : {}) });
      });
    });
  }

  /** Forwards a stream's lines to the log; resolves when the stream ends. */
  private pipeLines(stream: Readable | null): Promise<void> {
    if (!stream) return Promise.resolve();
    const splitter = new LineSplitter();
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      for (const line of splitter.push(chunk)) this.callbacks.onLogLine(line);
    });
    return new Promise<void>((resolve) => {
      const end = () => {
        for (const line of splitter.flush()) this.callbacks.onLogLine(line);
        resolve();
      };
      stream.once('end', end);
      stream.once('close', end);
      stream.once('error', end);
    });
  }

  /** The first 4096 bytes (whole characters) of the process's termination message file; removes it. */
  private async readTerminationMessage(): Promise<string | undefined> {
    const dir = this.terminationDir;
    if (!dir) return undefined;
    try {
      const file = await open(join(dir, 'termination-log'), 'r');
      try {
        const buffer = Buffer.alloc(TERMINATION_FILE_BYTES);
        const { bytesRead } = await file.read(buffer, 0, TERMINATION_FILE_BYTES, 0);
        // A character cut at the bound is dropped, not turned into a replacement character.
        return new StringDecoder('utf8').write(buffer.subarray(0, bytesRead)) || undefined;
      } finally {
        await file.close();
      }
    } catch {
      return undefined; // Nothing written.
    } finally {
      await this.removeTerminationDir();
    }
  }

  private async removeTerminationDir(): Promise<void> {
    const dir = this.terminationDir;
    this.terminationDir = undefined;
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }

  private finish(exit: ContainerExit): void {
    if (this.exited) return;
    this.exited = true;
    this.graceTimer.abort();
    this.release();
    this.callbacks.onExit(exit);
  }
}

/** Sends `signal` to a whole process group; a group that is already gone is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: every process of the group has exited.
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? constants.signals.SIGKILL;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
