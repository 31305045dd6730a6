// What the Deployment e2e files share: a Deployment manifest builder and
// kubectl helpers bound to a test server.
import assert from 'node:assert/strict';
import type { TestServer } from './harness.ts';

/** An apps/v1 Deployment of 3 replicas (one container `c`) selecting app=<name>, with `spec` merged over it. */
export const deploymentJson = (name: string, spec: Record<string, unknown> = {}, image = 'nginx:1.14.2'): string =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      ...spec,
    },
  });

/** `kubectl get <what> -o json`, parsed. */
export async function getJson(s: TestServer, what: string[]) {
  return JSON.parse(await s.k(['get', ...what, '-o', 'json']));
}

/** Waits with `kubectl rollout status` until the Deployment has rolled out. */
export async function rolledOut(s: TestServer, name: string): Promise<void> {
  assert.match(await s.k(['rollout', 'status', `deployment/${name}`, '--timeout=20s']), /successfully rolled out/);
}
