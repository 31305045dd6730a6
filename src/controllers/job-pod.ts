// The pods a Job creates: the template with the job-tracking finalizer and a
// controllerRef; Indexed Jobs add the completion index (annotation, label,
// JOB_COMPLETION_INDEX env var, hostname <job>-<index>).
import type { KubeObject } from '../api/types.ts';
import { newControllerRef } from './controller-ref.ts';
import { COMPLETION_INDEX } from './job-indexes.ts';
import { JOB_TRACKING_FINALIZER } from './job-plan.ts';

const INDEX_ENV = 'JOB_COMPLETION_INDEX';

export function jobPod(job: KubeObject, index?: number): KubeObject {
  const template = job.spec?.template ?? {};
  const name = job.metadata.name ?? '';
  const labels: Record<string, string> = { ...(template.metadata?.labels ?? {}) };
  const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}) };
  const spec = structuredClone(template.spec ?? {});
  if (index !== undefined) {
    annotations[COMPLETION_INDEX] = String(index);
    labels[COMPLETION_INDEX] = String(index);
    spec.hostname ??= `${name}-${index}`;
    const env = { name: INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX}']` } } };
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      c.env = [...(c.env ?? []).filter((e: { name?: string }) => e.name !== INDEX_ENV), env];
    }
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: index === undefined ? `${name}-` : `${name}-${index}-`,
      namespace: job.metadata.namespace,
      labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      finalizers: [JOB_TRACKING_FINALIZER],
      ownerReferences: [newControllerRef(job, { apiVersion: 'batch/v1', kind: 'Job' })],
    },
    spec,
  };
}
