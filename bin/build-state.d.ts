export const ROOT: string;
export const STAMP_FILE: string;
export type BuildState = { current: true } | { current: false; reason: string };
export function buildState(root?: string): BuildState;
