// The admin kubeconfig skiff writes for kubectl and other clients.
import { writeFileSync } from 'node:fs';
import YAML from 'yaml';

export function kubeconfigYaml(args: { server: string; caPem: string; token: string; user?: string }): string {
  const name = 'skiff';
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name, cluster: { server: args.server, 'certificate-authority-data': Buffer.from(args.caPem).toString('base64') } },
    ],
    users: [{ name: args.user ?? 'skiff-admin', user: { token: args.token } }],
    contexts: [{ name, context: { cluster: name, user: args.user ?? 'skiff-admin', namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  });
}

export function writeKubeconfig(path: string, args: Parameters<typeof kubeconfigYaml>[0]): void {
  writeFileSync(path, kubeconfigYaml(args), { mode: 0o600 });
}
