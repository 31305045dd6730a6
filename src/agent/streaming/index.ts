// The agent's streaming port (kubectl logs/exec/attach/port-forward/top behind
// the API server): its public surface.
export { startStreamingServer, isApiServer, type StreamingServer, type StreamingServerOptions } from './server.ts';
export { APISERVER_CLIENT_CN, APISERVER_CLIENT_ORG, DEFAULT_AGENT_PORT, AGENT_PATHS, type StreamingBackend } from './types.ts';
export type { Summary } from './stats.ts';
export { containerLogPath } from './log-files.ts';
export { agentStreaming, type AgentView } from './wire.ts';
