/** --profile: a summary of each server's CPU profile (bench/profile-summary.ts), written next to it. */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../common.js';
import { summariseProfile } from '../profile-summary.js';

export function summariseProfiles(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  try {
    const files: [string, string][] = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => [f.replace('.cpuprofile', ''), join(dir, f)]);
    // Baselines: one directory each; their main thread's profile is the largest file.
    for (const sub of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const profiles = readdirSync(join(dir, sub.name)).filter((f) => f.endsWith('.cpuprofile'));
      const largest = profiles.map((f) => join(dir, sub.name, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0];
      if (largest) files.push([sub.name, largest]);
    }
    for (const [name, file] of files) {
      const summary = summariseProfile(file, 25);
      writeFileSync(join(dir, `${name}.summary.txt`), summary.text);
      out[name] = { file, top: summary.top.slice(0, 15), inclusiveTop: summary.inclusiveTop.slice(0, 15), byArea: summary.byArea };
      log(`profile ${name}:\n${summary.text}`);
    }
  } catch (error) {
    log(`could not summarise profiles: ${(error as Error).message}`);
  }
  return out;
}
