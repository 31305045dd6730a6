// The standard test images: "nginx" (busybox httpd serving a page that names
// the image and the pod's hostname) and plain busybox.
import type { TestImageConfig, TestImageSpec } from './build.ts';
import type { TarEntry } from './tar.ts';

/**
 * PID 1 ignores signals it has no handler for, so the script traps TERM and
 * stops httpd itself: pods then terminate at once instead of waiting out
 * their grace period (as real nginx does).
 */
function entrypoint(version: string): string {
  return `#!/bin/sh
# skiff test image "nginx ${version}": busybox httpd serving /www.
echo "nginx ${version} starting on $(hostname)"
"$@" &
pid=$!
trap 'echo "nginx ${version} stopping"; kill $pid 2>/dev/null; wait $pid; exit 0' TERM INT QUIT
wait $pid
`;
}

/** Run by httpd for "/" (there is no index.html), so the page names the serving pod. */
function indexCgi(version: string): string {
  // CRLF header lines, as a real web server sends them (strict HTTP parsers, like the ingress's, reject bare LF).
  return `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "nginx ${version} from $(hostname)"
`;
}

/**
 * nginx:<version>: the busybox base layer plus a gzipped upper layer with the
 * web root. 1.14.2's upper layer also deletes /etc/motd (a whiteout) and
 * replaces /etc/skiff-base/{a,b} by /etc/skiff-base/c (an opaque directory).
 */
export function nginxSpec(version: string, names: string[] = [`nginx:${version}`]): TestImageSpec {
  const upper: TarEntry[] = [
    { type: 'file', path: 'docker-entrypoint.sh', data: entrypoint(version), mode: 0o755 },
    { type: 'dir', path: 'www' },
    { type: 'dir', path: 'www/cgi-bin' },
    { type: 'file', path: 'www/cgi-bin/index.cgi', data: indexCgi(version), mode: 0o755 },
    { type: 'file', path: 'www/healthz', data: 'ok\n' },
    { type: 'file', path: 'www/version', data: `${version}\n` },
  ];
  if (version === '1.14.2') {
    upper.push(
      { type: 'dir', path: 'etc' },
      { type: 'file', path: 'etc/.wh.motd', data: '' },
      { type: 'dir', path: 'etc/skiff-base' },
      { type: 'file', path: 'etc/skiff-base/.wh..wh..opq', data: '' },
      { type: 'file', path: 'etc/skiff-base/c', data: 'upper c\n' },
    );
  }
  const config: TestImageConfig = {
    Entrypoint: ['/docker-entrypoint.sh'],
    Cmd: ['httpd', '-f', '-v', '-p', '80', '-h', '/www'],
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `NGINX_VERSION=${version}`],
    ExposedPorts: { '80/tcp': {} },
    Labels: { 'org.skiff.test': 'nginx', version },
    StopSignal: 'SIGQUIT',
  };
  return {
    names,
    // 1.14.1 ships a gzipped base layer, 1.14.2 an uncompressed one: the same diff ID either way.
    layers: [
      { busyboxBase: true, gzip: version !== '1.14.2' },
      { entries: upper, gzip: true },
    ],
    config,
  };
}

/** busybox:latest: one layer, `sh` as its command (tests give their own). */
export function busyboxSpec(names: string[] = ['busybox:latest'], config: TestImageConfig = { Cmd: ['sh'] }): TestImageSpec {
  return { names, layers: [{ busyboxBase: true }], config };
}
