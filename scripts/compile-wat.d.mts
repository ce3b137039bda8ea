export const watPath: string;
export const modulePath: string;
export function compileWat(path?: string): Promise<string>;
export function moduleSource(base64: string): string;
