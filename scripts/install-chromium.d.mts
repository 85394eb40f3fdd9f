export const CHROMIUM: string;
export function ensureChromium(log?: (message: string) => void): string;
export function chromiumArgs(userDataDir: string | null): string[];
