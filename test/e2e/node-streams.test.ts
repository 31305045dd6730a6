// kubectl logs / exec / cp / port-forward / top with real containers: the API
// server proxies to the agent's mutual-TLS port, which streams from runc.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { canRunContainers } from '../../src/agent/runtime/testing.ts';
import { buildTestImages } from '../images/build.ts';
import { httpGet } from './agent-helpers.ts';
import { eventually, startServer, type TestServer } from './harness.ts';

const skip = canRunContainers() ?? false;
/** Pods start within a second or two here; allow for a loaded 2-core machine. */
const RUNNING_MS = 30_000;

const PODS = `
apiVersion: v1
kind: Pod
metadata: { name: logger }
spec:
  containers:
  - name: main
    image: busybox:latest
    command: ['sh', '-c', 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done']
---
apiVersion: v1
kind: Pod
metadata: { name: crasher }
spec:
  containers:
  - name: main
    image: busybox:latest
    command: ['sh', '-c', 'echo started; sleep 1; exit 1']
---
apiVersion: v1
kind: Pod
metadata: { name: echoer }
spec:
  containers:
  - name: main
    image: busybox:latest
    stdin: true
    command: ['sh', '-c', 'while read l; do echo "got $l"; done']
---
apiVersion: v1
kind: Pod
metadata: { name: web }
spec:
  containers:
  - name: nginx
    image: nginx:1.14.2
`;

/** Runs kubectl in the background, collecting stdout, until stop(). */
function background(s: TestServer, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn('kubectl', ['--kubeconfig', s.kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  child.stderr.on('data', (c) => {
    err += c;
  });
  return {
    output: () => out,
    errors: () => err,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    }),
  };
}

/** Pids of port-forward relays to 127.0.0.1:<port> (busybox nc or the node relay, as the agent runs them). */
function relayProcesses(port: number): string[] {
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').endsWith(`\x00127.0.0.1\x00${port}\x00`);
    } catch {
      return false; // exited meanwhile
    }
  });
}

describe('node streaming: logs, exec, cp, port-forward, top', { skip }, () => {
  let s: TestServer;
  let work: string;

  before(async () => {
    const images = await buildTestImages();
    s = await startServer([], { agent: true, images: [images.nginx1142, images.busybox] });
    work = mkdtempSync(join(tmpdir(), 'skiff-streams-'));
    await s.k(['apply', '-f', '-'], PODS);
    for (const name of ['logger', 'web', 'echoer']) {
      await eventually(async () => JSON.parse(await s.k(['get', 'pod', name, '-o', 'json'])).status?.phase === 'Running', RUNNING_MS, `${name} Running`);
    }
  });
  after(async () => {
    await s?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('logs: --tail, --timestamps, -f with lines arriving, bad container', async () => {
    await eventually(async () => (await s.k(['logs', 'logger'])).split('\n').length > 4, 10_000, 'some lines');
    const tail = (await s.k(['logs', 'logger', '--tail=2'])).trimEnd().split('\n');
    assert.equal(tail.length, 2);
    for (const line of tail) assert.match(line, /^line \d+$/);
    const stamped = (await s.k(['logs', 'logger', '--tail=1', '--timestamps'])).trimEnd();
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line \d+$/);
    const limited = await s.k(['logs', 'logger', '--limit-bytes=3']);
    assert.equal(limited, 'lin');

    const follow = background(s, ['logs', '-f', 'logger', '--tail=1']);
    const numbers = () => [...follow.output().matchAll(/line (\d+)/g)].map((m) => Number(m[1]));
    await eventually(async () => numbers().length >= 4, 10_000, 'followed lines');
    await follow.stop();
    const seen = numbers();
    assert.deepEqual(seen, seen.map((_, i) => seen[0] + i), 'consecutive lines while following');

    const bad = await s.kubectl(['logs', 'logger', '-c', 'nope']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /container nope is not valid for pod logger/);
  });

  test('logs --previous after a restart', async () => {
    await eventually(
      async () => JSON.parse(await s.k(['get', 'pod', 'crasher', '-o', 'json'])).status?.containerStatuses?.[0]?.restartCount >= 1,
      RUNNING_MS,
      'crasher restarted',
    );
    assert.equal(await s.k(['logs', 'crasher', '--previous']), 'started\n');
  });

  test('exec: output, stderr and exit code; -i with stdin; -it with a tty', async () => {
    const r = await s.kubectl(['exec', 'web', '--', 'sh', '-c', 'echo hi; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'hi\n');
    assert.match(r.stderr, /err\n/);
    assert.match(r.stderr, /command terminated with exit code 3/);
    assert.equal((await s.kubectl(['exec', 'web', '--', 'true'])).code, 0);
    const cat = await s.kubectl(['exec', '-i', 'web', '--', 'sh', '-c', 'tr a-z A-Z'], { input: 'hello\n' });
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, 'HELLO\n');
    // `script` gives kubectl a terminal, so -t allocates one in the container.
    const tty = await s.kubectl(['exec', 'web', '--', 'true']).then(() =>
      new Promise<string>((resolve) => {
        const child = spawn('script', ['-qec', `kubectl --kubeconfig ${s.kubeconfig} exec -it web -- sh -c 'tty; exit 0'`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (c) => {
          out += c;
        });
        child.on('exit', () => resolve(out));
      }),
    );
    assert.match(tty, /\/dev\/pts\/\d+/);
  });

  test('attach -i: typed lines reach the container and its answers come back; a second attach types again', async () => {
    for (const word of ['hello', 'again']) {
      const child = spawn('kubectl', ['--kubeconfig', s.kubeconfig, 'attach', '-i', 'echoer'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c) => {
        out += c;
      });
      try {
        // kubectl sends stdin once the session is up; lines typed before that wait in its pipe.
        child.stdin.write(`${word}\n`);
        await eventually(async () => out.includes(`got ${word}`), 15_000, `echo of ${word}`).catch((err) => {
          throw new Error(`${err.message}; kubectl printed: ${out}`);
        });
      } finally {
        child.kill('SIGINT');
      }
    }
  });

  test('run -it --rm: a shell on a tty, typed into, exits and its pod is deleted', async () => {
    // `script` gives kubectl a terminal; what is typed goes to the container's shell through attach.
    const child = spawn(
      'script',
      ['-qec', `kubectl --kubeconfig ${s.kubeconfig} run -it --rm shell --image=busybox:latest --restart=Never -- sh`, '/dev/null'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await eventually(async () => /\/ # $/m.test(out) || out.includes("If you don't see a command prompt"), 30_000, 'the prompt');
      child.stdin.write('echo "tty is $(tty)"; exit\r');
      await eventually(async () => /tty is \/dev\/pts\/\d+/.test(out), 15_000, 'the answer').catch((err) => {
        throw new Error(`${err.message}; the terminal showed: ${out}`);
      });
      assert.equal(await exited, 0, out);
    } finally {
      child.kill('SIGKILL');
    }
    await eventually(async () => (await s.kubectl(['get', 'pod', 'shell'])).code !== 0, 15_000, 'pod deleted by --rm');
  });

  test('run -i --rm: piped input reaches the container, which then sees its end (stdinOnce)', async () => {
    const r = await s.kubectl(['run', '-i', '--rm', 'once', '--image=busybox:latest', '--restart=Never', '--', 'sh', '-c', 'cat; echo done'], {
      input: 'hello\nworld\n',
    });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /hello\nworld\ndone\n/);
    await eventually(async () => (await s.kubectl(['get', 'pod', 'once'])).code !== 0, 15_000, 'pod deleted by --rm');
  });

  test('cp both ways', async () => {
    const local = join(work, 'in.txt');
    writeFileSync(local, 'copied through exec and tar\n');
    await s.k(['cp', local, 'web:/tmp/in.txt']);
    assert.equal(await s.k(['exec', 'web', '--', 'cat', '/tmp/in.txt']), 'copied through exec and tar\n');
    const back = join(work, 'out.txt');
    await s.k(['cp', 'web:/tmp/in.txt', back]);
    assert.equal(readFileSync(back, 'utf8'), 'copied through exec and tar\n');
  });

  // kubectl 1.32 tunnels SPDY in a WebSocket by default; with KUBECTL_PORT_FORWARD_WEBSOCKETS=false it upgrades to SPDY directly.
  for (const [how, env] of [['SPDY over WebSocket', {}], ['plain SPDY', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }]] as const) {
    test(`port-forward to the pod's port 80 from localhost (${how})`, async () => {
      const pf = background(s, ['port-forward', 'pod/web', ':80'], env);
      try {
        const port = await eventually(async () => /Forwarding from 127\.0\.0\.1:(\d+) -> 80/.exec(pf.output())?.[1], 15_000, 'port-forward ready');
        const page = await eventually(() => httpGet(`http://127.0.0.1:${port}/`), 10_000, 'page through port-forward').catch((err) => {
          throw new Error(`${err.message}; kubectl said: ${pf.output()} ${pf.errors()}`);
        });
        assert.match(page, /nginx 1\.14\.2/);
        // More connections over the same session work too.
        for (let i = 0; i < 3; i++) assert.match((await httpGet(`http://127.0.0.1:${port}/`)) ?? '', /nginx 1\.14\.2/);
      } finally {
        await pf.stop();
      }
    });
  }

  // Like the kubelet's runtimes, the agent dials localhost inside the pod: ports served only on 127.0.0.1 are reachable.
  test('port-forward reaches a port the pod serves only on its localhost; a closed port is reported', async () => {
    await s.k(['apply', '-f', '-'], `
apiVersion: v1
kind: Pod
metadata: { name: lo-only }
spec:
  containers:
  - name: main
    image: busybox:latest
    command: ['sh', '-c', 'mkdir -p /www && echo served-on-localhost > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www']
`);
    const podIp = await eventually(async () => {
      const pod = JSON.parse(await s.k(['get', 'pod', 'lo-only', '-o', 'json']));
      return pod.status?.phase === 'Running' ? (pod.status.podIP as string) : undefined;
    }, RUNNING_MS, 'lo-only Running');
    assert.equal(await httpGet(`http://${podIp}:8080/`), undefined, 'not served on the pod IP');
    const pf = background(s, ['port-forward', 'pod/lo-only', ':8080', ':9']);
    try {
      const ports = await eventually(async () => {
        const found = [...pf.output().matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)];
        return found.length === 2 ? Object.fromEntries(found.map((m) => [m[2], m[1]])) : undefined;
      }, 15_000, 'port-forward ready');
      for (let i = 0; i < 3; i++) {
        const page = await httpGet(`http://127.0.0.1:${ports['8080']}/`);
        assert.equal(page, 'served-on-localhost\n', `connection ${i}; kubectl said: ${pf.output()} ${pf.errors()}`);
      }
      // A connection left open holds a relay process in the pod's namespace (this test's own pid namespace)...
      const held = connect({ host: '127.0.0.1', port: Number(ports['8080']) }).on('error', () => {});
      await eventually(async () => relayProcesses(8080).length > 0, 10_000, 'relay process');
      // Nothing listens on 9 anywhere in the pod: kubectl is told why (and, as 1.32 does, ends the session).
      assert.equal(await httpGet(`http://127.0.0.1:${ports['9']}/`), undefined);
      await eventually(async () => /error forwarding port 9 to pod lo-only_default, uid [0-9a-f-]+: .*refused/i.test(pf.errors()), 10_000, 'error reported').catch((err) => {
        throw new Error(`${err.message}; kubectl said: ${pf.errors()}`);
      });
      await pf.stop();
      // ...and the session's end kills it (its client still open, httpd would wait a minute for the request).
      await eventually(async () => relayProcesses(8080).length === 0, 5_000, 'relay gone');
      held.destroy();
    } finally {
      await pf.stop();
    }
  });

  test('top nodes and pods show usage', async () => {
    const nodes = await s.k(['top', 'nodes']);
    assert.match(nodes, /NAME\s+CPU\(cores\)\s+CPU(\(%\)|%)\s+MEMORY\(bytes\)/);
    assert.match(nodes, /\n\S+\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%/);
    const pods = await s.k(['top', 'pods']);
    assert.match(pods, /\nweb\s+\d+m\s+\d+Mi/);
  });
});
