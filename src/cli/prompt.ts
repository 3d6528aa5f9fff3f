// Reads a secret from standard input: a line from a pipe, or typed at a terminal without echo.
import { createInterface } from 'node:readline';

export async function readSecret(
  prompt: string,
  options: { stdin?: boolean; echo?: boolean } = {},
): Promise<string> {
  const input = process.stdin;
  if (options.stdin || !input.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  const rl = createInterface({ input, output: process.stderr, terminal: true });
  if (!options.echo) {
    const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.startsWith(prompt)) write.call(rl, prompt);
    };
  }
  const answer = await new Promise<string>((resolve) => rl.question(prompt, resolve));
  rl.close();
  if (!options.echo) process.stderr.write('\n');
  return answer;
}
