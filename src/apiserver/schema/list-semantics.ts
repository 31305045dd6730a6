// How lists and maps of built-in kinds merge, learned from the struct tags and
// markers in Kubernetes' types.go (patchStrategy/patchMergeKey tags,
// +listType, +listMapKey, +mapType, +structType). The generator copies these
// onto the definitions as x-kubernetes-* extensions: kubectl reads them for
// client-side apply, and skiff's strategic merge patch and server-side apply
// read them back from the schema.

export type FieldSemantics = {
  /** x-kubernetes-patch-strategy: "merge", "retainKeys", "merge,retainKeys" or "replace". */
  strategy?: string;
  /** x-kubernetes-patch-merge-key. */
  mergeKey?: string;
  listType?: 'atomic' | 'set' | 'map';
  mapKeys?: string[];
  mapType?: 'atomic' | 'granular';
};

/** Definition name -> JSON field name -> semantics. */
export const fieldSemantics: Record<string, Record<string, FieldSemantics>> = {
  // apimachinery meta/v1 (k8s.io/apimachinery/pkg/apis/meta/v1/types.go)
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    finalizers: { strategy: 'merge', listType: 'set' },
    ownerReferences: { strategy: 'merge', mergeKey: 'uid', listType: 'map', mapKeys: ['uid'] },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector': {
    matchExpressions: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement': {
    values: { listType: 'atomic' },
  },
  // apiextensions-apiserver (apiextensions/v1/types.go)
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec': {
    versions: { listType: 'atomic' },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus': {
    conditions: { listType: 'map', mapKeys: ['type'] },
    storedVersions: { listType: 'atomic' },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionNames': {
    shortNames: { listType: 'atomic' },
    categories: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PersistentVolumeSpec': {
    accessModes: { listType: 'atomic' },
    mountOptions: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PersistentVolumeClaimSpec': {
    accessModes: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.VolumeHealthStatus': {
    healthConditions: { strategy: 'merge', mergeKey: 'status', listType: 'map', mapKeys: ['status', 'reason'] },
  },
  'io.k8s.api.core.v1.PodVolumeHealth': {
    healthConditions: { strategy: 'merge', mergeKey: 'status', listType: 'map', mapKeys: ['status', 'reason'] },
  },
  'io.k8s.api.core.v1.PersistentVolumeClaimStatus': {
    accessModes: { listType: 'atomic' },
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.RBDVolumeSource': {
    monitors: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.RBDPersistentVolumeSource': {
    monitors: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.CephFSVolumeSource': {
    monitors: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.CephFSPersistentVolumeSource': {
    monitors: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.SecretVolumeSource': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.SecretProjection': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ISCSIVolumeSource': {
    portals: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ISCSIPersistentVolumeSource': {
    portals: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.FCVolumeSource': {
    targetWWNs: { listType: 'atomic' },
    wwids: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ConfigMapVolumeSource': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ConfigMapProjection': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ProjectedVolumeSource': {
    sources: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.VolumeMount': {
    bindMountOptions: { listType: 'set' },
  },
  'io.k8s.api.core.v1.HTTPGetAction': {
    httpHeaders: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ExecAction': {
    command: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.Capabilities': {
    add: { listType: 'atomic' },
    drop: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ResourceRequirements': {
    claims: { listType: 'map', mapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.Container': {
    command: { listType: 'atomic' },
    args: { listType: 'atomic' },
    ports: { strategy: 'merge', mergeKey: 'containerPort', listType: 'map', mapKeys: ['containerPort', 'protocol'] },
    envFrom: { listType: 'atomic' },
    env: { strategy: 'merge', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
    resizePolicy: { listType: 'atomic' },
    restartPolicyRules: { listType: 'atomic' },
    volumeMounts: { strategy: 'merge', mergeKey: 'mountPath', listType: 'map', mapKeys: ['mountPath'] },
    volumeDevices: { strategy: 'merge', mergeKey: 'devicePath', listType: 'map', mapKeys: ['devicePath'] },
  },
  'io.k8s.api.core.v1.ContainerStatus': {
    volumeMounts: { strategy: 'merge', mergeKey: 'mountPath', listType: 'map', mapKeys: ['mountPath'] },
    allocatedResourcesStatus: { strategy: 'merge', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.ResourceStatus': {
    resources: { listType: 'map', mapKeys: ['resourceID'] },
  },
  'io.k8s.api.core.v1.LinuxContainerUser': {
    supplementalGroups: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ContainerRestartRuleOnExitCodes': {
    values: { listType: 'set' },
  },
  'io.k8s.api.core.v1.NodeSelector': {
    nodeSelectorTerms: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeSelectorTerm': {
    matchExpressions: { listType: 'atomic' },
    matchFields: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeSelectorRequirement': {
    values: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.TopologySelectorTerm': {
    matchLabelExpressions: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.TopologySelectorLabelRequirement': {
    values: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodAffinity': {
    requiredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
    preferredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodAntiAffinity': {
    requiredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
    preferredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodAffinityTerm': {
    namespaces: { listType: 'atomic' },
    matchLabelKeys: { listType: 'atomic' },
    mismatchLabelKeys: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeAffinity': {
    preferredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodSpec': {
    volumes: { strategy: 'merge,retainKeys', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
    initContainers: { strategy: 'merge', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
    containers: { strategy: 'merge', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
    ephemeralContainers: { strategy: 'merge', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
    nodeSelector: { mapType: 'atomic' },
    imagePullSecrets: { strategy: 'merge', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
    tolerations: { listType: 'atomic' },
    hostAliases: { strategy: 'merge', mergeKey: 'ip', listType: 'map', mapKeys: ['ip'] },
    readinessGates: { listType: 'atomic' },
    topologySpreadConstraints: {
      strategy: 'merge',
      mergeKey: 'topologyKey',
      listType: 'map',
      mapKeys: ['topologyKey', 'whenUnsatisfiable'],
    },
    schedulingGates: { strategy: 'merge', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
    resourceClaims: { strategy: 'merge,retainKeys', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
    evictionResponders: { strategy: 'merge', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.PodExtendedResourceClaimStatus': {
    requestMappings: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.TopologySpreadConstraint': {
    matchLabelKeys: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.HostAlias': {
    hostnames: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodSecurityContext': {
    supplementalGroups: { listType: 'atomic' },
    sysctls: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodDNSConfig': {
    nameservers: { listType: 'atomic' },
    searches: { listType: 'atomic' },
    options: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.EphemeralContainer': {
    command: { listType: 'atomic' },
    args: { listType: 'atomic' },
    ports: { strategy: 'merge', mergeKey: 'containerPort', listType: 'map', mapKeys: ['containerPort', 'protocol'] },
    envFrom: { listType: 'atomic' },
    env: { strategy: 'merge', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
    resizePolicy: { listType: 'atomic' },
    restartPolicyRules: { listType: 'atomic' },
    volumeMounts: { strategy: 'merge', mergeKey: 'mountPath', listType: 'map', mapKeys: ['mountPath'] },
    volumeDevices: { strategy: 'merge', mergeKey: 'devicePath', listType: 'map', mapKeys: ['devicePath'] },
  },
  'io.k8s.api.core.v1.PodStatus': {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
    hostIPs: { strategy: 'merge', mergeKey: 'ip', listType: 'atomic' },
    podIPs: { strategy: 'merge', mergeKey: 'ip', listType: 'map', mapKeys: ['ip'] },
    initContainerStatuses: { listType: 'atomic' },
    containerStatuses: { listType: 'atomic' },
    ephemeralContainerStatuses: { listType: 'atomic' },
    resourceClaimStatuses: { strategy: 'merge,retainKeys', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
    nodeAllocatableResourceClaimStatuses: {
      strategy: 'merge',
      mergeKey: 'resourceClaimName',
      listType: 'map',
      mapKeys: ['resourceClaimName'],
    },
    volumeHealth: { listType: 'map', mapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.ReplicationControllerSpec': {
    selector: { mapType: 'atomic' },
  },
  'io.k8s.api.core.v1.ReplicationControllerStatus': {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.ServiceStatus': {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.LoadBalancerStatus': {
    ingress: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.LoadBalancerIngress': {
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ServiceSpec': {
    ports: { strategy: 'merge', mergeKey: 'port', listType: 'map', mapKeys: ['port', 'protocol'] },
    selector: { mapType: 'atomic' },
    clusterIPs: { listType: 'atomic' },
    externalIPs: { listType: 'atomic' },
    loadBalancerSourceRanges: { listType: 'atomic' },
    ipFamilies: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ServiceAccount': {
    secrets: { strategy: 'merge', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
    imagePullSecrets: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.Endpoints': {
    subsets: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.EndpointSubset': {
    addresses: { listType: 'atomic' },
    notReadyAddresses: { listType: 'atomic' },
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeSpec': {
    podCIDRs: { strategy: 'merge', listType: 'set' },
    taints: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodePodPreemptionPolicy': {
    disableResizePreemption: { listType: 'set' },
  },
  'io.k8s.api.core.v1.NodeStatus': {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
    addresses: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
    images: { listType: 'atomic' },
    volumesInUse: { listType: 'atomic' },
    volumesAttached: { listType: 'atomic' },
    runtimeHandlers: { listType: 'atomic' },
    declaredFeatures: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.AvoidPods': {
    preferAvoidPods: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ContainerImage': {
    names: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NamespaceSpec': {
    finalizers: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NamespaceStatus': {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.PodExecOptions': {
    command: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodPortForwardOptions': {
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.LimitRangeSpec': {
    limits: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ResourceQuotaSpec': {
    scopes: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ScopeSelector': {
    matchExpressions: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ScopedResourceSelectorRequirement': {
    values: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ComponentStatus': {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.DownwardAPIVolumeSource': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.DownwardAPIProjection': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeAllocatableResourceClaimStatus': {
    containers: { listType: 'set' },
    mapping: { strategy: 'merge', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
    overhead: { strategy: 'merge', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
  },
  'io.k8s.api.apps.v1.StatefulSetSpec': {
    volumeClaimTemplates: { listType: 'atomic' },
  },
  'io.k8s.api.apps.v1.StatefulSetStatus': {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  },
  'io.k8s.api.apps.v1.DeploymentSpec': {
    strategy: { strategy: 'retainKeys' },
  },
  'io.k8s.api.apps.v1.DeploymentStatus': {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  },
  'io.k8s.api.apps.v1.DaemonSetStatus': {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  },
  'io.k8s.api.apps.v1.ReplicaSetStatus': {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  },
  'io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement': {
    values: { listType: 'set' },
  },
  'io.k8s.api.batch.v1.PodFailurePolicyRule': {
    onPodConditions: { listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.PodFailurePolicy': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.SuccessPolicy': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.JobSchedulingConfiguration': {
    resourceClaims: { strategy: 'merge', mergeKey: 'name', listType: 'map', mapKeys: ['name'] },
  },
  'io.k8s.api.batch.v1.JobStatus': {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.UncountedTerminatedPods': {
    succeeded: { listType: 'set' },
    failed: { listType: 'set' },
  },
  'io.k8s.api.batch.v1.CronJobStatus': {
    active: { listType: 'atomic' },
  },
  'io.k8s.api.discovery.v1.EndpointSlice': {
    endpoints: { listType: 'atomic' },
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.discovery.v1.Endpoint': {
    addresses: { listType: 'set' },
  },
  'io.k8s.api.discovery.v1.EndpointHints': {
    forZones: { listType: 'atomic' },
    forNodes: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.NetworkPolicySpec': {
    ingress: { listType: 'atomic' },
    egress: { listType: 'atomic' },
    policyTypes: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.NetworkPolicyIngressRule': {
    ports: { listType: 'atomic' },
    from: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.NetworkPolicyEgressRule': {
    ports: { listType: 'atomic' },
    to: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IPBlock': {
    except: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IngressSpec': {
    tls: { listType: 'atomic' },
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IngressTLS': {
    hosts: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IngressLoadBalancerStatus': {
    ingress: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IngressLoadBalancerIngress': {
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.HTTPIngressRuleValue': {
    paths: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.ServiceCIDRSpec': {
    cidrs: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.ServiceCIDRStatus': {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  },
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec': {
    metrics: { listType: 'atomic' },
  },
  'io.k8s.api.autoscaling.v2.HPAScalingRules': {
    policies: { listType: 'atomic' },
  },
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus': {
    currentMetrics: { listType: 'atomic' },
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  },
  'io.k8s.api.policy.v1.PodDisruptionBudgetSpec': {
    selector: { strategy: 'replace' },
  },
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus': {
    conditions: { strategy: 'merge', mergeKey: 'type', listType: 'map', mapKeys: ['type'] },
  },
  'io.k8s.api.rbac.v1.PolicyRule': {
    verbs: { listType: 'atomic' },
    apiGroups: { listType: 'atomic' },
    resources: { listType: 'atomic' },
    resourceNames: { listType: 'atomic' },
    nonResourceURLs: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.Role': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.RoleBinding': {
    subjects: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.ClusterRole': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.AggregationRule': {
    clusterRoleSelectors: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.ClusterRoleBinding': {
    subjects: { listType: 'atomic' },
  },
};

/** Structs marked +structType=atomic: replaced as a whole by apply (x-kubernetes-map-type: atomic). */
export const atomicStructs: string[] = [
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector',
  'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference',
  'io.k8s.api.autoscaling.v1.CrossVersionObjectReference',
  'io.k8s.api.core.v1.ConfigMapKeySelector',
  'io.k8s.api.core.v1.EndpointAddress',
  'io.k8s.api.core.v1.EndpointPort',
  'io.k8s.api.core.v1.EvictionResponder',
  'io.k8s.api.core.v1.FileKeySelector',
  'io.k8s.api.core.v1.LocalObjectReference',
  'io.k8s.api.core.v1.NodeSelector',
  'io.k8s.api.core.v1.NodeSelectorTerm',
  'io.k8s.api.core.v1.ObjectFieldSelector',
  'io.k8s.api.core.v1.ObjectReference',
  'io.k8s.api.core.v1.ResourceFieldSelector',
  'io.k8s.api.core.v1.ScopeSelector',
  'io.k8s.api.core.v1.SecretKeySelector',
  'io.k8s.api.core.v1.SecretReference',
  'io.k8s.api.core.v1.TopologySelectorTerm',
  'io.k8s.api.core.v1.TypedLocalObjectReference',
  'io.k8s.api.discovery.v1.EndpointPort',
  'io.k8s.api.networking.v1.ServiceBackendPort',
  'io.k8s.api.rbac.v1.RoleRef',
  'io.k8s.api.rbac.v1.Subject',
];
