/**
 * A throw inside a hand-written `next` does not error an rxjs stream: rxjs reports it as unhandled
 * and the stream goes on as if nothing happened (STYLE.md §1). `guard` does for our handlers what
 * rxjs's internal OperatorSubscriber does for its own: the throw becomes the stream's error.
 */
export function guard<A extends unknown[]>(
  subscriber: { error(err: unknown): void },
  handler: (...args: A) => void,
): (...args: A) => void {
  return (...args: A): void => {
    try {
      handler(...args);
    } catch (err) {
      subscriber.error(err);
    }
  };
}
