import { allTools, installCommand, installTools, missingTools } from '../stack/binaries.js';

/** Installs PostgreSQL, Redis, nginx, promtool and Prometheus when missing (apt-get, as root). */
export function runSetup(print: (line: string) => void): void {
  const missing = missingTools(allTools);
  if (missing.length === 0) {
    print(`ingestd setup: ${allTools.join(', ')} are installed`);
    return;
  }
  installTools(missing, print);
  print(`ingestd setup: installed ${missing.join(', ')} (${installCommand(missing)})`);
}
