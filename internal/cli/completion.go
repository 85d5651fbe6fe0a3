package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"
)

// The bash and zsh scripts ask weave itself for the candidates (urfave/cli's
// --generate-bash-completion: the commands, or a command's flags after a
// "-"), so they stay right as commands and flags change; where weave
// offers nothing (a pipeline FILE) they fall back to file names. They
// follow urfave/cli's autocomplete/ scripts, which the module ships as
// files but not as Go values.
const bashCompletion = `# bash completion for weave: source it, e.g. from ~/.bashrc:
#   source <(weave completion bash)
_weave_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}" opts
  if [[ "$cur" == -* ]]; then
    opts=$("${COMP_WORDS[@]:0:COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${COMP_WORDS[@]:0:COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o bashdefault -o default -F _weave_complete weave
`

const zshCompletion = `#compdef weave
# zsh completion for weave: put it on $fpath as _weave, or source it:
#   source <(weave completion zsh)
_weave() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} "$cur" --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ -n "${opts[1]}" ]]; then
    _describe 'weave' opts
  else
    _files
  fi
}
if [[ "$funcstack[1]" == "_weave" ]]; then
  _weave "$@"
else
  compdef _weave weave
fi
`

// completionFlag is what the shell scripts append to ask for candidates.
const completionFlag = "--generate-bash-completion"

func (w *weave) completionCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		Description: "Prints a script that completes weave's commands, flags and file arguments.\n\n" +
			"  bash:  source <(weave completion bash)          (in ~/.bashrc)\n" +
			"  zsh:   source <(weave completion zsh)           (in ~/.zshrc, after compinit)\n" +
			"  fish:  weave completion fish > ~/.config/fish/completions/weave.fish",
		Action: w.completion,
	}
}

func (w *weave) completion(c *ucli.Context) error {
	if c.NArg() != 1 {
		return usagef("completion needs one shell: bash, zsh or fish")
	}
	var script string
	switch sh := c.Args().First(); sh {
	case "bash":
		script = bashCompletion
	case "zsh":
		script = zshCompletion
	case "fish":
		// fish wants every command and flag spelled out; urfave/cli
		// writes that from the same definitions --help uses.
		s, err := c.App.ToFishCompletion()
		if err != nil {
			return fmt.Errorf("completion fish: %w", err)
		}
		script = s
	default:
		return usagef("completion %q: want bash, zsh or fish", sh)
	}
	_, err := fmt.Fprint(w.opts.Stdout, script)
	return err
}
