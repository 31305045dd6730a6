// ContainerRuntime on runc. Per container, under <data-dir>/agent/containers/<id>/:
//   config.json       the OCI bundle's spec (rootfs is the image store's overlay beside it)
//   shim/meta.json    what the agent needs after a restart (log path, cgroup, tty)
//   shim/stdout|err   raw output, written by the container, converted to CRI lines by a LogPump
//   shim/stdin        a FIFO (tty or stdin containers), held open read-write by the container
//   shim/pid          runc's pid file; shim/shim.pid the shim's; shim/started the start time
//   shim/exit         the exit code, written by the shim; its mtime is finishedAt
//   shim/oom          "1"/"0", the OOM verdict, saved before runc delete removes the cgroup
// State comes from these files and /proc, not from `runc state`: the kubelet
// polls often and each runc run costs ~10 ms of CPU.
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../lib/exec.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { isAlive as alive } from '../../lib/process.ts';
import type { ContainerRuntime, ContainerSpec, ContainerState, ContainerStats, ExecStreams } from '../types.ts';
import {
  type CgroupMounts,
  cgroupMounts,
  cgroupParentFor,
  detectCgroupVersion,
  hostDevices,
  nofileLimit,
  readCgroupStats,
  readOomKilled,
  removeEmptyCgroups,
} from './cgroups.ts';
import { runcExec, underScript } from './exec.ts';
import { LogPump, RAW_FILES } from './log-pump.ts';
import { absoluteCgroupPath, type HostInfo, ociSpec } from './oci-spec.ts';
import { Runc, RuntimeError } from './runc.ts';
import { SHIM_MARKER, startShim } from './shim.ts';

/** runc's limit on container ids, and a safe path component. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** How long a forced removal waits for the killed container's shim to record the exit. */
const KILL_WAIT_MS = 10_000;
const KILL_POLL_MS = 10;
/** Exit code reported when the shim vanished before recording one (containerd reports 255 too). */
const UNKNOWN_EXIT_CODE = 255;

type Meta = {
  id: string;
  logPath: string;
  cgroupPath: string;
  tty: boolean;
  stdin: boolean;
  stdinOnce?: boolean;
  labels: Record<string, string>;
  createdAt: string;
};

export type RuncRuntimeOptions = {
  dataDir: string;
  log?: Logger;
  /** runc binary (default: `runc` on PATH). */
  runc?: string;
};

export type RuntimePaths = { containers: string; runcRoot: string; cgroupParent: string };

export function runtimePaths(dataDir: string): RuntimePaths {
  return {
    containers: join(dataDir, 'agent', 'containers'),
    runcRoot: join(dataDir, 'agent', 'runc'),
    cgroupParent: cgroupParentFor(dataDir),
  };
}

function readNumber(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

async function writeAtomic(path: string, data: string): Promise<void> {
  await writeFile(`${path}.tmp`, data);
  await rename(`${path}.tmp`, path);
}

/** Creates the runtime and re-adopts the containers a previous agent left running (their logs keep flowing). */
export async function createRuncRuntime(options: RuncRuntimeOptions): Promise<RuncRuntime> {
  const version = await detectCgroupVersion();
  const mounts = await cgroupMounts(version);
  const rt = new RuncRuntime(options, mounts, await nofileLimit());
  await rt.adopt();
  return rt;
}

export class RuncRuntime implements ContainerRuntime {
  readonly paths: RuntimePaths;
  readonly runc: Runc;
  readonly cgroups: CgroupMounts;
  readonly #log: Logger;
  readonly #meta = new Map<string, Meta>();
  readonly #pumps = new Map<string, LogPump>();
  /** Containers whose launch (`runc run` under a new shim) is under way: no shim.pid or pid file yet, but not stopped either. */
  readonly #creating = new Set<string>();
  /** Write ends of stdinOnce containers' FIFOs, held until their first attach session ends. */
  readonly #stdinHeld = new Map<string, number>();

  readonly #nofile: number;

  constructor(options: RuncRuntimeOptions, cgroups: CgroupMounts, nofile: number) {
    this.#nofile = nofile;
    this.paths = runtimePaths(options.dataDir);
    this.runc = new Runc({ root: this.paths.runcRoot, binary: options.runc });
    this.cgroups = cgroups;
    this.#log = options.log ?? createLogger('runtime');
  }

  #bundle(id: string): string {
    return join(this.paths.containers, id);
  }

  #shim(id: string, file = ''): string {
    return join(this.paths.containers, id, 'shim', file);
  }

  /** Starts log pumps for every container found on disk (a stopped one is drained and closed at once). */
  async adopt(): Promise<void> {
    await mkdir(this.paths.containers, { recursive: true });
    await mkdir(this.paths.runcRoot, { recursive: true });
    for (const id of await readdir(this.paths.containers)) {
      const meta = await this.#loadMeta(id);
      if (!meta) continue;
      this.#startPump(meta);
      if (existsSync(this.#shim(id, 'exit'))) this.#pumps.get(id)?.finish();
    }
  }

  /** Stops reading logs (agent shutdown); containers and their shims run on. */
  close(): void {
    for (const pump of this.#pumps.values()) pump.close();
    this.#pumps.clear();
  }

  async #loadMeta(id: string): Promise<Meta | undefined> {
    const cached = this.#meta.get(id);
    if (cached) return cached;
    if (!ID_PATTERN.test(id)) return undefined;
    try {
      const meta = JSON.parse(await readFile(this.#shim(id, 'meta.json'), 'utf8')) as Meta;
      this.#meta.set(id, meta);
      return meta;
    } catch {
      return undefined;
    }
  }

  #startPump(meta: Meta): void {
    if (this.#pumps.has(meta.id)) return;
    try {
      const pump = new LogPump({
        dir: this.#shim(meta.id),
        logPath: meta.logPath,
        streams: ['stdout', 'stderr'],
        exitFile: 'exit',
        log: this.#log,
      });
      this.#pumps.set(meta.id, pump);
    } catch (err) {
      this.#log.warn('cannot read container output', { id: meta.id, err });
    }
  }

  async #hostInfo(spec: ContainerSpec): Promise<HostInfo> {
    return {
      cgroupVersion: this.cgroups.version,
      nofile: this.#nofile,
      devices: spec.securityContext?.privileged ? await hostDevices() : undefined,
    };
  }

  async create(spec: ContainerSpec): Promise<void> {
    const { id } = spec;
    if (!ID_PATTERN.test(id)) throw new RuntimeError('CreateFailed', `invalid container id "${id}"`);
    if (await this.#loadMeta(id)) throw new RuntimeError('AlreadyExists', `container ${id} already exists`);
    const bundle = this.#bundle(id);
    const shimDir = this.#shim(id);
    await mkdir(shimDir, { recursive: true });
    const config = ociSpec(spec, await this.#hostInfo(spec));
    await writeAtomic(join(bundle, 'config.json'), JSON.stringify(config));
    const stdin = spec.stdin === true || spec.tty === true;
    const meta: Meta = {
      id,
      logPath: spec.logPath,
      cgroupPath: absoluteCgroupPath(spec.cgroupPath),
      tty: spec.tty === true,
      stdin,
      stdinOnce: stdin && spec.stdinOnce === true,
      labels: spec.labels,
      createdAt: new Date().toISOString(),
    };
    const fds: number[] = [];
    try {
      for (const f of Object.values(RAW_FILES)) fds.push(openSync(join(shimDir, f), 'a', 0o600));
      // A tty container always gets a stdin FIFO: `script` must never see end of input (it would type ^D).
      if (meta.stdin) await run(['mkfifo', '-m', '600', this.#shim(id, 'stdin')]);
      await writeAtomic(this.#shim(id, 'meta.json'), JSON.stringify(meta));
      this.#meta.set(id, meta);
      this.#startPump(meta);
    } catch (err) {
      // runc has not run yet (it runs at start): only our files to remove.
      await this.#cleanup(id).catch(() => {});
      throw err instanceof RuntimeError
        ? err
        : new RuntimeError('CreateFailed', `create ${id}: ${(err as Error).message}`, { cause: err });
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }

  /**
   * Starts the shim, which makes and starts the container in one runc call:
   * `runc run --detach` under the shim as subreaper (ordinary), or
   * `script -c 'runc run'` (tty). As containerd's CRI does, runc is first
   * called at start, not create: one Go process per container fewer than
   * `runc create` + `runc start`, and errors of either show as start errors.
   */
  async #launch(meta: Meta): Promise<void> {
    const { id } = meta;
    const bundle = this.#bundle(id);
    const runcLog = this.#shim(id, 'runc.log');
    const pidFile = this.#shim(id, 'pid');
    const runcArgs = ['--log', runcLog, '--log-format', 'json'];
    const mode = meta.tty ? 'run' : 'create';
    const command =
      mode === 'create'
        ? this.runc.argv([...runcArgs, 'run', '--detach', '--bundle', bundle, '--pid-file', pidFile, id])
        : underScript(this.runc.argv([...runcArgs, 'run', '--keep', '--bundle', bundle, '--pid-file', pidFile, id]));
    try {
      const { shimPid } = await startShim({
        mode,
        command,
        exitFile: this.#shim(id, 'exit'),
        pidFile,
        files: { stdin: this.#stdinFor(meta), stdout: this.#shim(id, RAW_FILES.stdout), stderr: this.#shim(id, RAW_FILES.stderr) },
        env: mode === 'run' ? { ...process.env, SHELL: '/bin/sh' } : process.env,
      });
      await writeFile(this.#shim(id, 'shim.pid'), String(shimPid));
    } catch (err) {
      const detail = await this.#runcErrors(id);
      throw new RuntimeError('StartFailed', detail || (err as Error).message, {
        cause: err,
      });
    }
  }

  /** runc's error messages from its JSON log (the real reason a create or start failed). */
  async #runcErrors(id: string): Promise<string> {
    const text = await readFile(this.#shim(id, 'runc.log'), 'utf8').catch(() => '');
    const msgs: string[] = [];
    for (const line of text.split('\n')) {
      try {
        const entry = JSON.parse(line);
        if (entry.level === 'error' || entry.level === 'fatal') msgs.push(entry.msg);
      } catch {}
    }
    return msgs.join('; ');
  }

  async start(id: string): Promise<void> {
    const meta = await this.#loadMeta(id);
    if (!meta) throw new RuntimeError('NotFound', `container ${id} not found`);
    if (existsSync(this.#shim(id, 'started')))
      throw new RuntimeError('StartFailed', `container ${id} was already started`);
    this.#creating.add(id);
    try {
      await this.#launch(meta);
    } finally {
      this.#creating.delete(id);
    }
    await writeAtomic(this.#shim(id, 'started'), new Date().toISOString());
  }

  async state(id: string): Promise<ContainerState | undefined> {
    const meta = await this.#loadMeta(id);
    if (!meta) return undefined;
    const base = { id, labels: meta.labels };
    const startedAt = await readFile(this.#shim(id, 'started'), 'utf8').catch(() => undefined);
    const exitFile = this.#shim(id, 'exit');
    const exitStat = await stat(exitFile).catch(() => undefined);
    if (exitStat) {
      // Whoever sees "stopped" finds every line of output in the log file.
      this.#pumps.get(id)?.finish();
      const exitCode = readNumber(exitFile) ?? UNKNOWN_EXIT_CODE;
      // File times come from the kernel's coarse clock (a few ms behind): never report an end before the start.
      const mtime = exitStat.mtime.toISOString();
      return {
        ...base,
        status: 'stopped',
        startedAt,
        finishedAt: startedAt && startedAt > mtime ? startedAt : mtime,
        exitCode,
        oomKilled: await this.#oom(meta, exitCode),
      };
    }
    // Mid-launch (a relist racing start()): neither running nor gone; finishing the log pump here would lose its output.
    if (this.#creating.has(id)) return { ...base, status: 'created' };
    const shimPid = readNumber(this.#shim(id, 'shim.pid'));
    const pid = readNumber(this.#shim(id, 'pid'));
    const shimAlive = alive(shimPid) && (await this.#isShim(shimPid!));
    if (!startedAt) {
      // Not launched yet (runc runs at start).
      if (!shimPid) return { ...base, status: 'created' };
      // runc removes its exec FIFO on start: gone without our record means an agent died right after `runc start`.
      if (shimAlive && existsSync(join(this.paths.runcRoot, id, 'exec.fifo')))
        return { ...base, status: 'created', pid };
      if (shimAlive) {
        const now = new Date().toISOString();
        await writeAtomic(this.#shim(id, 'started'), now);
        return { ...base, status: 'running', pid, startedAt: now };
      }
    } else if (shimAlive) {
      return { ...base, status: 'running', pid, startedAt };
    }
    // The shim may have written the exit file and exited since we looked: read it rather than call the exit unknown.
    if (!shimAlive && existsSync(exitFile)) return this.state(id);
    // The shim is gone without an exit record (killed by someone): the exit code is unknowable.
    if (pid && alive(pid) && (await this.runc.state(id))?.status === 'running')
      return { ...base, status: 'running', pid, startedAt };
    this.#pumps.get(id)?.finish();
    return {
      ...base,
      status: 'stopped',
      startedAt,
      exitCode: UNKNOWN_EXIT_CODE,
      oomKilled: await this.#oom(meta, UNKNOWN_EXIT_CODE),
    };
  }

  async #isShim(pid: number): Promise<boolean> {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return cmdline.startsWith(SHIM_MARKER);
  }

  /** The OOM verdict, read from the cgroup once (it is gone after runc delete) and kept. */
  async #oom(meta: Meta, exitCode: number): Promise<boolean> {
    const file = this.#shim(meta.id, 'oom');
    const saved = await readFile(file, 'utf8').catch(() => undefined);
    if (saved !== undefined) return saved.trim() === '1';
    const oom = await readOomKilled(this.cgroups, meta.cgroupPath, exitCode);
    await writeFile(file, oom ? '1' : '0').catch(() => {});
    return oom;
  }

  async list(): Promise<ContainerState[]> {
    const ids = await readdir(this.paths.containers).catch(() => [] as string[]);
    const states = await Promise.all(ids.map((id) => this.state(id)));
    return states.filter((s): s is ContainerState => s !== undefined);
  }

  async kill(id: string, signal: string): Promise<void> {
    const st = await this.state(id);
    if (!st) throw new RuntimeError('NotFound', `container ${id} not found`);
    if (st.status === 'stopped' || (st.status === 'created' && !st.pid)) return;
    await this.runc.kill(id, signal);
  }

  async remove(id: string, options: { force?: boolean } = {}): Promise<void> {
    const st = await this.state(id);
    if (!st) return;
    if (st.status !== 'stopped' && st.pid) {
      if (!options.force)
        throw new RuntimeError('NotStopped', `container ${id} is ${st.status}; stop it first or remove with force`);
      await this.runc.kill(id, 'KILL');
      await this.#waitForExit(id);
      await this.state(id); // drains logs and records the OOM verdict before the cgroup goes
    }
    await this.runc.delete(id, { force: true });
    await this.#cleanup(id);
  }

  async #waitForExit(id: string): Promise<void> {
    const deadline = Date.now() + KILL_WAIT_MS;
    while (Date.now() < deadline) {
      if (existsSync(this.#shim(id, 'exit'))) return;
      const shimPid = readNumber(this.#shim(id, 'shim.pid'));
      if (!alive(shimPid)) return;
      await new Promise((r) => setTimeout(r, KILL_POLL_MS));
    }
    this.#log.warn('container did not exit after SIGKILL', { id });
  }

  /** Removes everything of the container but the image store's rootfs (which its owner unmounts). */
  async #cleanup(id: string): Promise<void> {
    const meta = this.#meta.get(id);
    this.attachEnded(id);
    this.#pumps.get(id)?.finish();
    this.#pumps.delete(id);
    this.#meta.delete(id);
    if (meta) await removeEmptyCgroups(this.cgroups, meta.cgroupPath, `/${this.paths.cgroupParent}`);
    await rm(this.#shim(id), { recursive: true, force: true });
    await unlink(join(this.#bundle(id), 'config.json')).catch(() => {});
    await rmdir(this.#bundle(id)).catch(() => {});
  }

  async exec(id: string, command: string[], streams: ExecStreams): Promise<{ exitCode: number }> {
    const st = await this.state(id);
    if (!st) throw new RuntimeError('NotFound', `container ${id} not found`);
    if (st.status !== 'running') throw new RuntimeError('NotRunning', `container ${id} is not running (${st.status})`);
    return runcExec(this.runc, id, command, streams);
  }

  async stats(id: string): Promise<ContainerStats | undefined> {
    const meta = await this.#loadMeta(id);
    if (!meta) return undefined;
    return readCgroupStats(this.cgroups, meta.cgroupPath);
  }

  /**
   * How the container opens its stdin FIFO. Ordinarily read-write, so it
   * never sees end of input however attach sessions come and go. With
   * stdinOnce read-only, and the agent holds a write end until the first
   * attach session ends: then the container sees end of input (an agent
   * restart before that ends it too: the held end goes with it). The write
   * end is opened first, so the container's read-only open does not wait.
   */
  #stdinFor(meta: Meta): { path: string; mode: 'r' | 'rw' } | undefined {
    if (!meta.stdin) return undefined;
    const path = this.#shim(meta.id, 'stdin');
    if (!meta.stdinOnce) return { path, mode: 'rw' };
    if (!this.#stdinHeld.has(meta.id)) this.#stdinHeld.set(meta.id, openSync(path, 'r+'));
    return { path, mode: 'r' };
  }

  attachEnded(id: string): void {
    const held = this.#stdinHeld.get(id);
    if (held === undefined) return;
    this.#stdinHeld.delete(id);
    closeSync(held);
  }

  /** The stdin FIFO of a tty or stdin container (for attach), if it has one. */
  async stdinPath(id: string): Promise<string | undefined> {
    const meta = await this.#loadMeta(id);
    return meta?.stdin ? this.#shim(id, 'stdin') : undefined;
  }
}
