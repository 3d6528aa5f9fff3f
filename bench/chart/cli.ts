// A stand-alone `slipway template` entry for the benchmark, until src/cli/main.ts wires the command in.
import { Command } from 'commander';
import { registerTemplateCommand } from '../../src/cli/commands/template.ts';

const program = new Command('slipway');
registerTemplateCommand(program);
await program.parseAsync(process.argv.slice(2), { from: 'user' });
