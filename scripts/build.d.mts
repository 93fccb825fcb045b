// Types of scripts/build.mjs, for the bench that builds its servers the same way.
export function staleBuild(): string | undefined;
/** preferModules (default true): a package's ES module build where it ships both, as `npm run build` does. */
export function bundle(options: { entries: readonly string[]; outdir: string; sourceRoot?: string; preferModules?: boolean }): Promise<void>;
