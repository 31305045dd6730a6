// @kubernetes/client-node, a second real client, lists and watches through
// the same server kubectl uses.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { type TestServer, eventually, startServer } from './harness.ts';

describe('@kubernetes/client-node', () => {
  let s: TestServer;
  let kc: k8s.KubeConfig;
  before(async () => {
    s = await startServer();
    kc = new k8s.KubeConfig();
    kc.loadFromFile(s.kubeconfig);
  });
  after(async () => {
    await s?.stop();
  });

  test('creates and lists core and apps objects', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'from-node' }, data: { a: 'b' } } });
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    assert.deepEqual(list.items.map((i) => i.metadata?.name).filter((n) => n !== 'kube-root-ca.crt'), ['from-node']);
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'web' },
        spec: {
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.14.2' }] } },
        },
      },
    });
    const dep = await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' });
    assert.equal(dep.spec?.replicas, 1, 'defaulted');
    assert.equal(dep.spec?.strategy?.type, 'RollingUpdate');
    const namespaces = await core.listNamespace();
    assert.ok(namespaces.items.some((n) => n.metadata?.name === 'kube-system'));
  });

  test('watches and informs', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const seen: string[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch('/api/v1/namespaces/default/configmaps', {}, (type, obj) => {
      seen.push(`${type}:${obj.metadata?.name}`);
    }, () => undefined);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    const informed: string[] = [];
    informer.on('add', (obj) => informed.push(obj.metadata?.name ?? ''));
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'watched' } } });
      await core.deleteNamespacedConfigMap({ name: 'watched', namespace: 'default' });
      await eventually(async () => seen.includes('ADDED:watched') && seen.includes('DELETED:watched'), 10_000, 'watch events');
      await eventually(async () => informed.includes('watched') && informed.includes('from-node'), 10_000, 'informer adds');
    } finally {
      req.abort();
      await informer.stop();
    }
  });
});
