/** A ppserver subcommand: its help text and what it does. Exit codes: 0 ok, 1 failed, 2 usage. */
export interface Command {
  name: string;
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}
