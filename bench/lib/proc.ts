import { readFile } from 'node:fs/promises';
import { round } from './args.ts';

/**
 * Resident memory, peak resident memory and CPU time (user + system) of a live process (Linux
 * /proc); and its read and write system calls so far (a socket write or read is one each: the
 * round trips a process makes, which its CPU follows on loopback).
 */
export async function procFigures(
  pid: number,
): Promise<{ rssMb: number; peakRssMb: number; cpuMs: number; readCalls: number; writeCalls: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status)?.[1] ?? NaN);
  // Fields 14 and 15 of /proc/PID/stat, after the parenthesised command name; in clock ticks (100/s).
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(stat[11]) + Number(stat[12]);
  const io = await readFile(`/proc/${pid}/io`, 'utf8');
  const count = (field: string): number => Number(new RegExp(`^${field}: (\\d+)$`, 'm').exec(io)?.[1] ?? NaN);
  return {
    rssMb: round(kb('VmRSS') / 1024, 1),
    peakRssMb: round(kb('VmHWM') / 1024, 1),
    cpuMs: ticks * 10,
    readCalls: count('syscr'),
    writeCalls: count('syscw'),
  };
}
