// Placeholder: replaced by the simulator command (issue 2).
export async function runSimulatorCommand(_opts: Record<string, string | undefined>): Promise<void> {
  throw new Error('simulator not built yet');
}
