/**
 * Loads an optional peer dependency only when a sink that needs it is created, so rxkpl users who
 * do not use that sink never install it (package.json `peerDependenciesMeta`).
 */

/** Thrown when a sink needs an optional peer dependency that is not installed. */
export class MissingPeerDependencyError extends Error {
  override readonly name = 'MissingPeerDependencyError';
  constructor(
    readonly packageName: string,
    readonly feature: string,
  ) {
    super(`${feature} needs the optional peer dependency '${packageName}', which is not installed: npm install ${packageName}`);
  }
}

function isModuleNotFound(error: unknown, packageName: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(packageName);
}

/**
 * `require(packageName)`, or a {@link MissingPeerDependencyError} naming the package and the
 * sink that wanted it.
 *
 * ```text
 * loadOptionalPeer('prom-client', 'prometheusSink')  → the module, or
 *   MissingPeerDependencyError: prometheusSink needs the optional peer dependency 'prom-client' …
 * ```
 *
 * @example const { PutMetricDataCommand } = loadOptionalPeer<CloudWatchModule>('@aws-sdk/client-cloudwatch', 'cloudWatchSink');
 *
 * @param packageName - the npm package.
 * @param feature - who needs it, for the message.
 * @returns the module, typed by the caller's structural interface (not checked at run time).
 */
export function loadOptionalPeer<T>(packageName: string, feature: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, optional peer
    return require(packageName) as T;
  } catch (error) {
    if (isModuleNotFound(error, packageName)) throw new MissingPeerDependencyError(packageName, feature);
    throw error;
  }
}
