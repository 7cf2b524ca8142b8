/** The agent's connections' `CLIENT SETNAME` stem: `ccc-agent:<name>`, then `:control` and `:fetch`. */
export function agentConnectionName(name: string): string {
  return `ccc-agent:${name}`;
}
