/**
 * A loggable description of an unexpected error. Prisma's messages can quote the arguments of
 * the failed call (customer data), so for those only the class and code are kept.
 */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const code = (error as { code?: unknown }).code;
  if (/^Prisma|DriverAdapter/.test(error.name)) return { type: error.name, code };
  return { type: error.name, code, message: error.message, stack: error.stack };
}
