// The start of `slipway template` without the rest of the CLI: bin/slipway.mjs runs this (bundled alone into
// dist/cli/template.cjs by scripts/build-cli.mjs) before loading main.ts, commander and every other command.
// It handles the common argument forms; for anything else it answers undefined and the caller runs the full
// CLI, so help, usage errors and the output stay exactly what main.ts prints.
import { parseTemplateArgv, runTemplate } from './commands/template.ts';

export interface FastTemplateIO {
  out(text: string): void;
  err(text: string): void;
}

/**
 * Runs `template ...` (argv without the program name) when parseTemplateArgv understands it, resolving with
 * the exit code; resolves undefined, having done nothing, otherwise.
 */
export async function runTemplateFast(
  argv: readonly string[],
  io: FastTemplateIO,
): Promise<number | undefined> {
  const parsed = parseTemplateArgv(argv);
  if (parsed === undefined) return undefined;
  // What main.ts prints for the template command: each text with exactly one final newline.
  const line = (write: (t: string) => void) => (t: string) => write(t.endsWith('\n') ? t : `${t}\n`);
  return runTemplate(parsed.args, parsed.flags, { stdout: line(io.out), stderr: line(io.err) });
}
