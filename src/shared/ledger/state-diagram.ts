import { INITIAL_STATES, ROW_STATES, TERMINAL_STATES, TRANSITIONS } from './states.ts';

/**
 * The row lifecycle as a Mermaid state diagram, rendered from the transition table for
 * docs/architecture.md (a unit test keeps the two in step).
 */
export function renderStateDiagram(): string {
  const lines = ['```mermaid', 'stateDiagram-v2'];
  for (const s of INITIAL_STATES) lines.push(`  [*] --> ${s}`);
  for (const from of ROW_STATES) for (const to of TRANSITIONS[from]) lines.push(`  ${from} --> ${to}`);
  for (const s of TERMINAL_STATES) lines.push(`  ${s} --> [*]`);
  lines.push('```');
  return lines.join('\n');
}
