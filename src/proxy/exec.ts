// The proxy runs nft, iptables-restore, conntrack and ip through the shared runner.
export { CommandError, hasCommand, run, runIgnoring } from '../lib/exec.ts';
