// Types of scripts/build.mjs, for the bench that builds its servers the same way.
export function staleBuild(): string | undefined;
export function bundle(options: { entries: readonly string[]; outdir: string; sourceRoot?: string }): Promise<void>;
