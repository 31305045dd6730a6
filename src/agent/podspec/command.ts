// The argv a container runs: Kubernetes' command/args over the image's
// ENTRYPOINT/CMD (containerd's buildProcessArgs), after $(VAR) expansion.
import { expand, mappingFor } from './expand.ts';
import { ContainerConfigError, type EnvVar } from './types.ts';

/**
 * | command | args | runs                         |
 * |---------|------|------------------------------|
 * | -       | -    | ENTRYPOINT + CMD             |
 * | set     | -    | command (CMD dropped)        |
 * | -       | set  | ENTRYPOINT + args            |
 * | set     | set  | command + args               |
 */
export function processArgs(options: {
  command?: string[];
  args?: string[];
  entrypoint?: string[];
  cmd?: string[];
}): string[] {
  let command = options.command ?? [];
  let args = options.args ?? [];
  if (command.length === 0) {
    if (args.length === 0) args = [...(options.cmd ?? [])];
    const ep = options.entrypoint ?? [];
    // An ENTRYPOINT of [""] means "none" (docker's way of clearing it).
    command = ep.length === 1 && ep[0] === '' ? [] : [...ep];
  }
  const argv = [...command, ...args];
  if (argv.length === 0) throw new ContainerConfigError('no command specified', 'CreateContainerError');
  return argv;
}

/** Expands $(VAR) in command and args with the container's resolved env (the kubelet's ExpandContainerCommandAndArgs). */
export function expandCommandAndArgs(
  container: { command?: string[]; args?: string[] },
  env: EnvVar[],
): { command?: string[]; args?: string[] } {
  const mapping = mappingFor(new Map(env.map((e) => [e.name, e.value])));
  return {
    command: container.command?.map((s) => expand(s, mapping)),
    args: container.args?.map((s) => expand(s, mapping)),
  };
}
