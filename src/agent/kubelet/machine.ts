// Reads the machine's facts for the Node: cpus, memory, disk, kernel, OS,
// and the pressure signals (memory available, disk free, pids).
import { execFile } from 'node:child_process';
import { readFile, statfs } from 'node:fs/promises';
import { arch, availableParallelism, release } from 'node:os';
import { promisify } from 'node:util';
import { goArch, type MachineInfo, osImageFrom, type Pressure } from './node-object.ts';

const execFileAsync = promisify(execFile);
const readText = (path: string) => readFile(path, 'utf8').catch(() => '');

function meminfo(text: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** `runc --version`'s first line: "runc version 1.1.12". */
export async function runcVersion(runc = 'runc'): Promise<string> {
  try {
    const { stdout } = await execFileAsync(runc, ['--version']);
    return /runc version (\S+)/.exec(stdout)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function readMachineInfo(dataDir: string, runtimeVersion: string): Promise<MachineInfo> {
  const [mem, osRelease, machineId, bootId, fs] = await Promise.all([
    readText('/proc/meminfo'),
    readText('/etc/os-release'),
    readText('/etc/machine-id'),
    readText('/proc/sys/kernel/random/boot_id'),
    statfs(dataDir),
  ]);
  return {
    cpus: availableParallelism(),
    memoryBytes: meminfo(mem, 'MemTotal'),
    diskBytes: fs.blocks * fs.bsize,
    kernelVersion: release(),
    osImage: osImageFrom(osRelease),
    architecture: goArch(arch()),
    machineID: machineId.trim(),
    bootID: bootId.trim(),
    runtimeVersion,
  };
}

export async function readPressure(dataDir: string): Promise<Pressure> {
  const [mem, loadavg, pidMax, fs] = await Promise.all([
    readText('/proc/meminfo'),
    readText('/proc/loadavg'),
    readText('/proc/sys/kernel/pid_max'),
    statfs(dataDir),
  ]);
  // loadavg's 4th field is running/total scheduling entities: every thread holds a pid.
  const total = Number(/\s\d+\/(\d+)\s/.exec(loadavg)?.[1] ?? 0);
  return {
    memoryAvailableBytes: meminfo(mem, 'MemAvailable'),
    diskAvailableBytes: fs.bavail * fs.bsize,
    diskCapacityBytes: fs.blocks * fs.bsize,
    pidsInUse: total,
    pidMax: Number(pidMax.trim()) || 0,
  };
}
