import { cpus, totalmem, platform, release } from "node:os";

/** One line that says what the figures were measured on. */
export function describeMachine(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim().replace(/\s+/g, " ") ?? "unknown CPU";
  return `${cores.length} cores (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${platform()} ${release()}, node ${process.version}`;
}
