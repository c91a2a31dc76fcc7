// How the SSH transport words durations and command lines in its messages, so a timeout reads
// the same whether a connect, a bastion or a command ran out of time.

/** `10s`, or `1.5s` when the duration is not whole seconds. */
export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** A command line shortened for messages. Lines never carry secrets (they travel on stdin or in 0600 files). */
export function display(line: string): string {
  const oneLine = line.replace(/\s+/g, ' ');
  return oneLine.length > 120 ? `${oneLine.slice(0, 117)}...` : oneLine;
}
