// skiff's command line: argv → the component that runs. The only place that
// wires components together.
// Each command is imported when it runs, so `skiff agent` does not load the API server (and vice versa).

const USAGE = `Usage: skiff <command> [options]

Commands:
  server     run the control plane (API server, store) and a node agent
  agent      join this machine to a cluster as a node
  image      import and list container images
  reset      stop all pods and remove what skiff set up on this node

Run 'skiff <command> --help' for a command's options.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const shutdown = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stdout.write(`skiff: ${sig}, shutting down\n`);
      shutdown.abort();
    });
  }
  switch (command) {
    case 'server':
      await (await import('./server.ts')).runServer(rest, shutdown.signal);
      return 0;
    case 'image':
      return (await import('./image.ts')).runImage(rest);
    case 'agent':
      return (await import('./agent.ts')).runAgent(rest, shutdown.signal);
    case 'reset':
      return (await import('./reset.ts')).runReset(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`skiff: unknown command "${command}"\n\n${USAGE}`);
      return 1;
  }
}
