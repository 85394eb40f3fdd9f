import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * wrk (Debian's package, scripts/install-wrk.mjs) as a bench's HTTP load
 * generator: a C event loop whose cost per request is a small part of a
 * node client's, so on a 2-core machine it leaves the server under test
 * most of what the node generator took from it. Latency percentiles are
 * wrk's own (its histogram, read in the Lua `done` hook); every answer's
 * status and body are checked in the Lua `response` hook, so a server that
 * answered errors fast would not count.
 */
export interface WrkLoad {
  readonly requests: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Answers that were not 200 with `mustContain` in the body, plus wrk's socket errors and timeouts. */
  readonly bad: number;
  /** wrk's own CPU (user + system) over the run, as a share of one core, %. */
  readonly clientCpu: number;
}

export interface WrkOptions {
  readonly url: string;
  readonly body: string;
  readonly contentType: string;
  /** A string every good answer's body holds. */
  readonly mustContain: string;
  readonly connections: number;
  readonly threads: number;
  readonly seconds: number;
  /** Where the Lua script is written. */
  readonly dir: string;
}

/** A Lua long string that holds `s` as it is (its closing bracket level chosen so `s` cannot end it). */
function luaLong(s: string): string {
  let eq = '=';
  while (s.includes(`]${eq}]`)) eq += '=';
  return `[${eq}[${s}]${eq}]`;
}

function script(o: WrkOptions): string {
  return `wrk.method = "POST"
wrk.body = ${luaLong(o.body)}
wrk.headers["Content-Type"] = ${luaLong(o.contentType)}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, ${luaLong(o.mustContain)}, 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  io.write(string.format("WRK %d %d %d %d %d %d\\n", summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99), b))
end
`;
}

const TICK_MS = 10;

/**
 * Runs wrk once against `url`. Its CPU is read from the shell that waited
 * for it (cutime + cstime in /proc/<shell>/stat), so nothing else runs
 * beside it in the measurement.
 */
export function runWrk(wrk: string, o: WrkOptions, clockTickMs = TICK_MS): Promise<WrkLoad> {
  const file = join(o.dir, `wrk-${o.connections}.lua`);
  writeFileSync(file, script(o));
  const args = ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.seconds}s`, '--timeout', '10s', '-s', file, o.url];
  // sh runs wrk, waits, then prints its own stat line: fields 16 and 17 are its waited-for children's CPU.
  const child = spawn('sh', ['-c', '"$0" "$@"; s=$?; read -r line < /proc/$$/stat; echo "STAT $line"; exit $s', wrk, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /^WRK (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$/m.exec(out);
      const stat = /^STAT (.*)$/m.exec(out);
      if (code !== 0 || !m || !stat) return reject(new Error(`wrk ${args.join(' ')} failed (${code}): ${err || out.slice(-2000)}`));
      const [requests, durationUs, p50, p95, p99, bad] = m.slice(1).map(Number) as [number, number, number, number, number, number];
      const f = stat[1]!.slice(stat[1]!.lastIndexOf(')') + 2).split(' ');
      const cpuMs = (Number(f[13]) + Number(f[14])) * clockTickMs;
      resolve({ requests, perSecond: requests / (durationUs / 1e6), p50: p50 / 1000, p95: p95 / 1000, p99: p99 / 1000, bad, clientCpu: (cpuMs / (durationUs / 1000)) * 100 });
    });
  });
}
