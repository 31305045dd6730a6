// Objects every cluster has from its first start: the system namespaces and
// the kubernetes and kube-dns Services.
import { isNotFound } from '../api/errors.ts';
import type { Logger } from '../lib/log.ts';
import { SYSTEM_NAMESPACES } from './admission.ts';
import type { RequestContext } from './resources/context.ts';
import type { ObjectService } from './resources/objects.ts';
import type { ResourceRegistry } from './resources/registry.ts';
import { ensureSystemServices, type SystemServicesOptions } from './services/index.ts';

export const SYSTEM_CONTEXT: RequestContext = {
  user: { name: 'system:apiserver', groups: ['system:masters'] },
  dryRun: false,
  fieldManager: 'skiff-apiserver',
  fieldValidation: 'Ignore',
  warnings: [],
};

export async function bootstrap(args: {
  registry: ResourceRegistry;
  objects: ObjectService;
  log: Logger;
  /** The `kubernetes` and `kube-dns` Services (and the API server's own endpoints), when given. */
  services?: SystemServicesOptions;
}): Promise<void> {
  const namespaces = args.registry.byGroupResource('', 'namespaces')!;
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await args.objects.getStored(namespaces, '', name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await args.objects.create(namespaces, 'v1', '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, {
        ...SYSTEM_CONTEXT,
        warnings: [],
      });
      args.log.debug('created namespace', { name });
    }
  }
  if (args.services) await ensureSystemServices({ registry: args.registry, objects: args.objects, log: args.log, options: args.services });
}
