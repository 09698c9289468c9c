/**
 * `ppclient completions bash|zsh|fish`: a completion script for the shell, made from the
 * commands and their flags (so it never lags behind them). Install:
 *
 *   bash: ppclient completions bash > ~/.local/share/bash-completion/completions/ppclient
 *   zsh:  ppclient completions zsh > "${fpath[1]}/_ppclient"
 *   fish: ppclient completions fish > ~/.config/fish/completions/ppclient.fish
 */
import type { ParseArgsOptionsConfig } from "node:util";
import { AppError } from "../../lib/errors.ts";
import { parseFlags } from "../cli/args.ts";
import { didYouMean } from "../cli/did_you_mean.ts";
import { EXIT } from "../cli/exit_codes.ts";
import type { Command } from "./command.ts";

const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = typeof SHELLS[number];

const FLAGS = { help: { type: "boolean", short: "h" } } as const;

const HELP = `Usage: ppclient completions bash|zsh|fish

Prints a completion script for the shell: commands, their options, and paths.

  bash: ppclient completions bash > ~/.local/share/bash-completion/completions/ppclient
  zsh:  ppclient completions zsh > "\${fpath[1]}/_ppclient"   (then restart zsh)
  fish: ppclient completions fish > ~/.config/fish/completions/ppclient.fish`;

/** The command, for the other commands (it completes them). */
export function completionsCommand(commands: readonly Command[]): Command {
  const self: Command = {
    name: "completions",
    summary: "print a shell completion script (bash, zsh, fish)",
    help: HELP,
    flags: FLAGS,
    run(args, context) {
      const { positionals } = parseFlags(args, FLAGS);
      const shell = positionals[0];
      if (positionals.length !== 1 || !isShell(shell)) {
        const near = shell === undefined ? null : didYouMean(shell, SHELLS);
        throw new AppError(
          "invalid_input",
          `Give one shell: bash, zsh or fish${near ? ` (did you mean "${near}"?)` : ""}`,
        );
      }
      context.terminal.out(
        completionScript(shell, commands.includes(self) ? commands : [...commands, self]),
      );
      return Promise.resolve(EXIT.ok);
    },
  };
  return self;
}

function isShell(value: string | undefined): value is Shell {
  return SHELLS.some((s) => s === value);
}

interface Spec {
  name: string;
  summary: string;
  long: string[];
  short: string[];
}

function specsOf(commands: readonly Command[]): Spec[] {
  return commands.map((c) => ({
    name: c.name,
    summary: c.summary,
    long: Object.keys(c.flags ?? {}).map((f) => `--${f}`),
    short: Object.values(c.flags ?? {} as ParseArgsOptionsConfig).flatMap((f) =>
      f.short ? [`-${f.short}`] : []
    ),
  }));
}

/** The script for `shell`; the default command (scan) completes when no command is given. */
export function completionScript(shell: Shell, commands: readonly Command[]): string {
  const specs = specsOf(commands);
  switch (shell) {
    case "bash":
      return bashScript(specs);
    case "zsh":
      return zshScript(specs);
    case "fish":
      return fishScript(specs);
  }
}

function bashScript(specs: Spec[]): string {
  const names = specs.map((s) => s.name).join(" ");
  const cases = specs.map((s) => `    ${s.name}) opts="${[...s.long, ...s.short].join(" ")}" ;;`)
    .join("\n");
  const scan = specs.find((s) => s.name === "scan");
  return `# bash completion for ppclient (ppclient completions bash)
_ppclient() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" opts="" i
  local commands="${names}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case " $commands " in *" \${COMP_WORDS[i]} "*) cmd="\${COMP_WORDS[i]}"; break ;; esac
    case "\${COMP_WORDS[i]}" in -*) ;; *) break ;; esac
  done
  case "$cmd" in
${cases}
    *) opts="${scan ? [...scan.long, ...scan.short].join(" ") : ""}" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -z "$cmd" && $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "$commands" -- "$cur") $(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _ppclient ppclient
`;
}

function zshQuote(text: string): string {
  return text.replaceAll("'", "'\\''").replaceAll(":", "\\:");
}

function zshScript(specs: Spec[]): string {
  const described = specs.map((s) => `    '${zshQuote(s.name)}:${zshQuote(s.summary)}'`)
    .join("\n");
  const cases = specs.map((s) =>
    `    ${s.name}) compadd -- ${[...s.long, ...s.short].join(" ")} ;;`
  ).join("\n");
  const scan = specs.find((s) => s.name === "scan");
  return `#compdef ppclient
# zsh completion for ppclient (ppclient completions zsh)
_ppclient() {
  local -a commands
  commands=(
${described}
  )
  if (( CURRENT == 2 )) && [[ $words[2] != -* ]]; then
    _describe -t commands 'ppclient command' commands
    _files
    return
  fi
  if [[ $words[CURRENT] == -* ]]; then
    case $words[2] in
${cases}
    *) compadd -- ${scan ? [...scan.long, ...scan.short].join(" ") : ""} ;;
    esac
    return
  fi
  _files
}
_ppclient "$@"
`;
}

function fishScript(specs: Spec[]): string {
  const names = specs.map((s) => s.name).join(" ");
  const lines = [
    "# fish completion for ppclient (ppclient completions fish)",
    "complete -c ppclient -f",
    ...specs.map((s) =>
      `complete -c ppclient -n "not __fish_seen_subcommand_from ${names}" -a ${s.name} -d '${
        s.summary.replaceAll("'", "\\'")
      }'`
    ),
  ];
  for (const s of specs) {
    const when = s.name === "scan"
      ? `"__fish_seen_subcommand_from scan; or not __fish_seen_subcommand_from ${names}"`
      : `"__fish_seen_subcommand_from ${s.name}"`;
    for (const flag of s.long) lines.push(`complete -c ppclient -n ${when} -l ${flag.slice(2)}`);
    for (const flag of s.short) lines.push(`complete -c ppclient -n ${when} -s ${flag.slice(1)}`);
    if (s.name !== "completions") lines.push(`complete -c ppclient -n ${when} -F`);
  }
  lines.push(
    `complete -c ppclient -n "__fish_seen_subcommand_from completions" -a "bash zsh fish"`,
  );
  return `${lines.join("\n")}\n`;
}
